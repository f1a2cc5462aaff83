import { type ErrorCode, errorMessage, GeeCacheError, httpStatus } from "./errors.ts";

const TEXT = "text/plain; charset=utf-8";

/**
 * ERROR_CODE_HEADER carries an error's code (a GeeCacheError code) beside its one-line text: meaning travels in the
 * code.
 */
export const ERROR_CODE_HEADER = "x-geecache-error";

/** text answers with one plain-text line (only the first line of message is sent). */
export function text(status: number, message: string, headers?: Record<string, string>): Response {
  const line = message.split("\n", 1)[0];
  return new Response(`${line}\n`, {
    status,
    headers: headers ? { "content-type": TEXT, ...headers } : { "content-type": TEXT },
  });
}

/** json answers with a JSON body. */
export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return Response.json(body, { status, headers });
}

/** errorResponse answers for err with the status its code maps to; an unknown error is a 500 with its message. */
export function errorResponse(err: unknown, headers?: Record<string, string>): Response {
  return text(httpStatus(err), errorMessage(err), headers);
}

/**
 * coded answers for err with the status its code maps to, its one-line message and its code in ERROR_CODE_HEADER
 * (INTERNAL for an error without one).
 */
export function coded(err: unknown, headers?: Record<string, string>): Response {
  const code: ErrorCode = err instanceof GeeCacheError ? err.code : "INTERNAL";
  return errorResponse(err, { [ERROR_CODE_HEADER]: code, ...headers });
}

/** pathOf returns the path of a request URL without building a URL object. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * readBody reads a request body of at most limit bytes; a longer one is a TOO_LARGE error, found without reading it
 * all.
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) throw new GeeCacheError("TOO_LARGE", `body is ${declared} bytes, over the limit of ${limit}`);
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) throw new GeeCacheError("TOO_LARGE", `body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
