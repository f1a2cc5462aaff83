import type { PeerService } from "../../cluster/peer-service.ts";
import type { Handler } from "../../cluster/transport.ts";
import { authorizationMatches } from "../../core/bearer.ts";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { decodeResponse, encodeResponse, type PeerResponse } from "../../core/protocol.ts";
import { coded, pathOf, readBody } from "../../core/responses.ts";
import type { GetResult } from "../../group/results.ts";
import { answerBatch, BATCH_SEGMENT } from "./batch.ts";
import {
  BOOT_HEADER,
  COPY_HEADER,
  GENERATION_HEADER,
  MEMBER_SEGMENT,
  OFFER_HEADER,
  PEEK_HEADER,
  PURGE_SEGMENT,
  WRITTEN_HEADER,
} from "./headers.ts";

/** PeerRoutesOptions configure the answers to other nodes. */
export interface PeerRoutesOptions {
  basePath: string;
  /** token, when set, is required as `Authorization: Bearer <token>`. */
  token?: string;
  /** bootId, sent with every value, lets peers see that this process restarted. */
  bootId?: string;
  /** refused is told of each request refused for its token (the node logs them, a few at a time). */
  refused?: (what: string) => void;
}

const NO_CONTENT = { status: 204 };
const UNAUTHORIZED = { "www-authenticate": "Bearer" };
const ALLOW = { allow: "GET, HEAD, PUT, DELETE" };

/**
 * peerRoutes answers `{basePath}{group}/{key}` through service: GET loads locally (never forwards)
 * and answers with the key's measured request rate (minute_qps), with `x-geecache-peek` only a
 * cached copy; PUT stores a protobuf-encoded value (`x-geecache-copy`: as a copy), DELETE drops
 * the key; `POST {basePath}_batch/{group}` answers many keys at once (batch.ts). Every error
 * carries its code in `x-geecache-error` beside a one-line body.
 */
export function peerRoutes(service: PeerService, options: PeerRoutesOptions): Handler {
  const { basePath: base, token } = options;
  const headers: Record<string, string> = { "content-type": "application/x-protobuf" };
  if (options.bootId) headers[BOOT_HEADER] = options.bootId;
  const valueAnswer = (r: GetResult, group: string): Response => {
    try {
      // After a purge the answer says the group's purge number: a peer that missed the purge learns it here.
      const g = service.generation(group);
      const h = g > 0 ? { ...headers, [GENERATION_HEADER]: String(g) } : headers;
      return new Response(encodeResponse(r.value, r.expiresAt, r.minuteQps), { headers: h });
    } catch (err) {
      return coded(err);
    }
  };
  const purgePrefix = `${base}${PURGE_SEGMENT}/`;
  const purge = (req: Request): Response => {
    try {
      const generation = Number(req.headers.get(GENERATION_HEADER));
      if (!Number.isSafeInteger(generation) || generation < 1)
        return coded(invalid(`a purge needs ${GENERATION_HEADER}: the group's purge number (1 or more)`));
      service.purge(decodeURIComponent(pathOf(req.url).slice(purgePrefix.length)), generation);
      return new Response(null, NO_CONTENT);
    } catch (err) {
      return coded(err);
    }
  };
  const batchPrefix = `${base}${BATCH_SEGMENT}/`;
  const memberPath = `${base}${MEMBER_SEGMENT}`;
  const member = async (req: Request): Promise<Response> => {
    try {
      const body = JSON.parse(new TextDecoder().decode(await readBody(req, 64 * 1024))) as Record<string, unknown>;
      const { peer, state, boot } = body;
      if (typeof peer !== "string" || (state !== "leaving" && state !== "joining") || typeof boot !== "string")
        return coded(invalid('an announcement is {"peer": URL, "state": "leaving" | "joining", "boot": ID}'));
      if (!service.member(peer, state, boot))
        return coded(new GeeCacheError("NOT_FOUND", `${peer} is not a member of this node's cluster`));
      return new Response(null, { status: 204, headers });
    } catch (err) {
      return coded(err instanceof SyntaxError ? invalid(`malformed announcement: ${err.message}`) : err);
    }
  };
  const put = async (req: Request, group: string, key: string): Promise<Response> => {
    try {
      service.group(group); // an unknown group is refused before its body is read
      const body = await readBody(req, service.maxValueBytes + 64);
      let decoded: PeerResponse;
      try {
        decoded = decodeResponse(body);
      } catch (err) {
        return coded(invalid(`malformed body: ${errorMessage(err)}`));
      }
      const mode =
        req.headers.get(COPY_HEADER) !== null ? "copy" : req.headers.get(OFFER_HEADER) !== null ? "offer" : undefined;
      const written = Number(req.headers.get(WRITTEN_HEADER) ?? 0);
      service.set(group, key, decoded.value, decoded.expiresAt, mode, Number.isSafeInteger(written) ? written : 0);
      return new Response(null, NO_CONTENT);
    } catch (err) {
      return coded(err);
    }
  };
  return (req) => {
    if (token !== undefined && !authorizationMatches(req.headers.get("authorization") ?? undefined, token)) {
      options.refused?.(`refused a peer request without the cluster token: ${req.method} ${pathOf(req.url)}`);
      const why = "peer routes need the cluster token: Authorization: Bearer <token>";
      return coded(new GeeCacheError("UNAUTHORIZED", why), UNAUTHORIZED);
    }
    const method = req.method;
    if (method === "POST" && pathOf(req.url).startsWith(batchPrefix))
      return answerBatch(service, req, pathOf(req.url).slice(batchPrefix.length));
    if (method === "POST" && pathOf(req.url) === memberPath) return member(req);
    if (method === "POST" && pathOf(req.url).startsWith(purgePrefix)) return purge(req);
    if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "DELETE") {
      const why = `method ${method} is not allowed on peer routes; use GET, PUT or DELETE`;
      return coded(new GeeCacheError("METHOD_NOT_ALLOWED", why), ALLOW);
    }
    const path = pathOf(req.url);
    if (!path.startsWith(base)) return coded(new GeeCacheError("NO_ROUTE", `no route ${path}`));
    const rest = path.slice(base.length);
    const slash = rest.indexOf("/");
    if (slash <= 0 || slash === rest.length - 1)
      return coded(invalid(`malformed peer path: expected ${base}<group>/<key>`));
    let group: string;
    let key: string;
    try {
      group = decodeURIComponent(rest.slice(0, slash));
      key = decodeURIComponent(rest.slice(slash + 1));
    } catch {
      return coded(invalid("malformed peer path: bad percent-encoding"));
    }
    if (method === "PUT") return put(req, group, key);
    try {
      if (method === "DELETE") {
        service.remove(group, key);
        return new Response(null, NO_CONTENT);
      }
      if (req.headers.get(PEEK_HEADER) !== null) return valueAnswer(service.peek(group, key), group);
    } catch (err) {
      return coded(err);
    }
    // As on /api: the signal is made only for a miss, and a hit is answered without a promise turn.
    const pending = service.get(group, key, {
      get signal() {
        return req.signal;
      },
    });
    if (Bun.peek.status(pending) === "fulfilled") return valueAnswer(Bun.peek(pending) as GetResult, group);
    return pending.then((r) => valueAnswer(r, group), coded);
  };
}

function invalid(message: string): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", message);
}
