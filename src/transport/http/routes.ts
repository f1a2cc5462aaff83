import type { Handler } from "../../cluster/transport.ts";
import { type ErrorCode, errorMessage, GeeCacheError } from "../../core/errors.ts";
import { decodeResponse, encodeResponse } from "../../core/protocol.ts";
import type { Group } from "../../group/group.ts";
import type { Registry } from "../../group/registry.ts";
import type { GetResult } from "../../group/results.ts";
import { bearerMatches } from "./auth.ts";
import { answerBatch, BATCH_SEGMENT } from "./batch.ts";
import {
  BOOT_HEADER,
  COPY_HEADER,
  ERROR_CODE_HEADER,
  errorResponse,
  PEEK_HEADER,
  pathOf,
  readBody,
  text,
} from "./responses.ts";

/** PeerRoutesOptions configure the answers to other nodes. */
export interface PeerRoutesOptions {
  basePath: string;
  /** token, when set, is required as `Authorization: Bearer <token>`. */
  token?: string;
  /** maxValueBytes bounds a value written by a peer's PUT. */
  maxValueBytes: number;
  /** bootId, sent with every value, lets peers see that this process restarted. */
  bootId?: string;
}

/**
 * peerRoutes answers `{basePath}{group}/{key}` from registry's groups: GET loads locally (never
 * forwards) and answers with the key's measured request rate (minute_qps), PUT stores a protobuf-encoded value in the
 * main cache, DELETE drops the key from both
 * caches; `POST {basePath}_batch/{group}` answers many keys at once (batch.ts). Every error carries its code in
 * `x-geecache-error` beside a one-line body.
 */
export function peerRoutes(registry: Registry, options: PeerRoutesOptions): Handler {
  const { basePath: base, token, maxValueBytes } = options;
  const headers: Record<string, string> = { "content-type": "application/x-protobuf" };
  if (options.bootId) headers[BOOT_HEADER] = options.bootId;
  const valueAnswer = (r: GetResult): Response => {
    try {
      return new Response(encodeResponse(r.value, r.expiresAt, r.minuteQps), { headers });
    } catch (err) {
      return peerFailure(err);
    }
  };
  const batchPrefix = `${base}${BATCH_SEGMENT}/`;
  const write = async (req: Request, group: Group, key: string): Promise<Response> => {
    try {
      if (req.method === "DELETE") {
        group.removeLocal(key);
        return new Response(null, { status: 204 });
      }
      const body = await readBody(req, maxValueBytes + 64);
      let decoded: ReturnType<typeof decodeResponse>;
      try {
        decoded = decodeResponse(body);
      } catch (err) {
        return coded(400, "INVALID_ARGUMENT", `malformed body: ${errorMessage(err)}`);
      }
      const { value, expiresAt } = decoded;
      if (value.length > maxValueBytes)
        return coded(413, "TOO_LARGE", `value is ${value.length} bytes, over the limit of ${maxValueBytes}`);
      const at = expiresAt > 0 ? { expiresAt } : { ttl: 0 }; // expire 0 on the wire = never
      if (req.headers.get(COPY_HEADER) !== null) group.setCopy(key, value, at);
      else group.setLocal(key, value, at);
      return new Response(null, { status: 204 });
    } catch (err) {
      return peerFailure(err);
    }
  };
  return (req) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      return coded(401, "UNAUTHORIZED", "peer routes need the cluster token: Authorization: Bearer <token>", {
        "www-authenticate": "Bearer",
      });
    }
    const method = req.method;
    if (method === "POST" && pathOf(req.url).startsWith(batchPrefix))
      return answerBatch(registry, req, pathOf(req.url).slice(batchPrefix.length));
    if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "DELETE") {
      return coded(
        405,
        "METHOD_NOT_ALLOWED",
        `method ${method} is not allowed on peer routes; use GET, PUT or DELETE`,
        { allow: "GET, HEAD, PUT, DELETE" },
      );
    }
    const path = pathOf(req.url);
    if (!path.startsWith(base)) return coded(404, "NO_ROUTE", `no route ${path}`);
    const rest = path.slice(base.length);
    const slash = rest.indexOf("/");
    if (slash <= 0 || slash === rest.length - 1)
      return coded(400, "INVALID_ARGUMENT", `malformed peer path: expected ${base}<group>/<key>`);
    let groupName: string;
    let key: string;
    try {
      groupName = decodeURIComponent(rest.slice(0, slash));
      key = decodeURIComponent(rest.slice(slash + 1));
    } catch {
      return coded(400, "INVALID_ARGUMENT", "malformed peer path: bad percent-encoding");
    }
    const group = registry.get(groupName);
    if (!group) return coded(404, "UNKNOWN_GROUP", `no such group: ${groupName}`);
    if (method === "PUT" || method === "DELETE") return write(req, group, key);
    if (req.headers.get(PEEK_HEADER) !== null) {
      const cached = group.peek(key);
      return cached ? valueAnswer(cached) : coded(404, "NOT_FOUND", `key ${JSON.stringify(key)} is not cached here`);
    }
    // As on /api: the signal is made only for a miss, and a hit is answered without a promise turn.
    const pending = group.getLocal(key, {
      get signal() {
        return req.signal;
      },
    });
    if (Bun.peek.status(pending) === "fulfilled") return valueAnswer(Bun.peek(pending) as GetResult);
    return pending.then(valueAnswer, peerFailure);
  };
}

function coded(status: number, code: ErrorCode, message: string, headers?: Record<string, string>): Response {
  return text(status, message, { [ERROR_CODE_HEADER]: code, ...headers });
}

function peerFailure(err: unknown): Response {
  const code = err instanceof GeeCacheError ? err.code : "INTERNAL";
  return errorResponse(err, { [ERROR_CODE_HEADER]: code });
}
