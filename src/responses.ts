import { errorMessage, httpStatus } from "./errors.ts";

const TEXT = "text/plain; charset=utf-8";

/** text answers with one plain-text line (only the first line of message is sent). */
export function text(status: number, message: string, headers?: Record<string, string>): Response {
  const line = message.split("\n", 1)[0];
  return new Response(`${line}\n`, { status, headers: headers ? { "content-type": TEXT, ...headers } : { "content-type": TEXT } });
}

/** json answers with a JSON body. */
export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return Response.json(body, { status, headers });
}

/** errorResponse answers for err with the status its code maps to; an unknown error is a 500 with its message. */
export function errorResponse(err: unknown, headers?: Record<string, string>): Response {
  return text(httpStatus(err), errorMessage(err), headers);
}
