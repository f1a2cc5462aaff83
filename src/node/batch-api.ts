import { bearerMatches } from "../core/bearer.ts";
import { errorMessage, GeeCacheError, httpStatus } from "../core/errors.ts";
import { DEFAULT_MAX_BATCH_KEYS, DEFAULT_MAX_KEY_BYTES } from "../core/limits.ts";
import { ERROR_CODE_HEADER, errorResponse, json, readBody, text } from "../core/responses.ts";
import type { Group } from "../group/group.ts";
import type { Registry } from "../group/registry.ts";
import type { GetResult } from "../group/results.ts";

/** BatchApiOptions configure `POST /api/batch`. */
export interface BatchApiOptions {
  registry: Registry;
  /** maxBatchKeys is the most keys one request may ask for (default DEFAULT_MAX_BATCH_KEYS). */
  maxBatchKeys?: number;
  maxKeyBytes?: number;
  /** apiReadToken, when set, is required as a Bearer token (as on GET /api). */
  apiReadToken?: string;
}

/** BatchEntry is one key's answer: a value (UTF-8 text, or base64 with encoding) or an error line. */
export interface BatchEntry {
  key: string;
  status: number;
  value?: string;
  encoding?: "base64";
  error?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // a leading BOM is part of the value

/**
 * batchApiHandler answers `POST /api/batch` with `{"group"?, "keys": [...]}`: 200 with
 * `{"results": [{key, status, value | error}, ...]}` in request order. A malformed body is a
 * one-line 400, more keys than maxBatchKeys a 413, a key over maxKeyBytes a 414.
 */
export function batchApiHandler(options: BatchApiOptions): (req: Request) => Promise<Response> | Response {
  const { registry, apiReadToken } = options;
  const maxKeys = options.maxBatchKeys ?? DEFAULT_MAX_BATCH_KEYS;
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxBody = batchBodyLimit(maxKeys, maxKeyBytes);
  return async (req) => {
    if (req.method !== "POST")
      return text(405, `method ${req.method} is not allowed on /api/batch; use POST`, { allow: "POST" });
    if (apiReadToken !== undefined && !bearerMatches(req, apiReadToken)) {
      return text(401, "reading needs the API token: Authorization: Bearer <token>", { "www-authenticate": "Bearer" });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(await readBody(req, maxBody)));
    } catch (err) {
      if (err instanceof GeeCacheError) return errorResponse(err);
      return text(400, `bad JSON body: ${errorMessage(err)}; send {"group": "scores", "keys": ["Tom", "Jack"]}`);
    }
    const body = parsed as { group?: unknown; keys?: unknown };
    if (typeof body !== "object" || body === null || !Array.isArray(body.keys))
      return text(400, `the body needs "keys", an array of strings: {"keys": ["Tom", "Jack"]}`);
    const keys = body.keys as unknown[];
    if (keys.length > maxKeys)
      return text(413, `batch has ${keys.length} keys, over the limit of ${maxKeys} (--max-batch-keys)`);
    for (const [i, k] of keys.entries()) {
      if (typeof k !== "string" || k === "") return text(400, `keys[${i}] must be a non-empty string`);
      if (k.length > maxKeyBytes || Buffer.byteLength(k) > maxKeyBytes)
        return text(414, `keys[${i}] is longer than the limit of ${maxKeyBytes} bytes`);
    }
    let group: Group | undefined;
    if (body.group === undefined || body.group === "") group = registry.first();
    else if (typeof body.group !== "string") return text(400, `"group" must be a string`);
    else group = registry.get(body.group);
    if (!group)
      return text(404, body.group ? `no such group: ${String(body.group)}` : "no groups are configured", {
        [ERROR_CODE_HEADER]: "UNKNOWN_GROUP",
      });
    let answers: Map<string, GetResult | GeeCacheError>;
    try {
      answers = await group.getMany(keys as string[], { signal: req.signal });
    } catch (err) {
      return errorResponse(err);
    }
    return json(200, { results: (keys as string[]).map((k) => entry(k, answers.get(k)!)) });
  };
}

/**
 * batchBodyLimit is the largest body a batch of maxKeys keys can need: JSON may take 6 bytes (\uXXXX) a UTF-16 unit.
 */
export function batchBodyLimit(maxKeys: number, maxKeyBytes: number): number {
  return 4096 + maxKeys * (maxKeyBytes * 6 + 8);
}

function entry(key: string, a: GetResult | GeeCacheError): BatchEntry {
  if (a instanceof GeeCacheError) return { key, status: httpStatus(a), error: a.message.split("\n", 1)[0]! };
  const bytes = a.value.bytes();
  try {
    return { key, status: 200, value: utf8.decode(bytes) };
  } catch {
    return { key, status: 200, value: Buffer.from(bytes).toString("base64"), encoding: "base64" };
  }
}
