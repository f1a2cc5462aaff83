import { bearerMatches } from "../core/bearer.ts";
import { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../core/limits.ts";
import { ERROR_CODE_HEADER, errorResponse, json, readBody, text } from "../core/responses.ts";
import { parseDuration, unitHint, unitMissing } from "../core/units.ts";
import type { Group } from "../group/group.ts";
import type { Registry } from "../group/registry.ts";
import type { GetResult, WriteResult } from "../group/results.ts";
import { type QueryParams, queryParams } from "./query.ts";

const UNKNOWN_GROUP = { [ERROR_CODE_HEADER]: "UNKNOWN_GROUP" };
const NO_VALUE = "no value: send it as the request body, e.g. curl --data-binary @file or -d value";

/** ApiOptions configures the public API routes. */
export interface ApiOptions {
  registry: Registry;
  /** owner names the node that owns a key (for the X-Geecache-Owner header). */
  owner?: (key: string) => string;
  /** self names this node: a main-cache hit of a key another node owns is not served (see apiHandler). */
  self?: () => string;
  maxKeyBytes?: number;
  /** maxValueBytes bounds a PUT body (default 1 MiB). */
  maxValueBytes?: number;
  /** apiToken, when set, is required (as a Bearer token) by PUT and DELETE. */
  apiToken?: string;
  /** apiReadToken, when set, is required by GET. */
  apiReadToken?: string;
  /**
   * onWriteFailed is told of each PUT or DELETE that could not reach the key's owner or some copy holders (for the
   * log).
   */
  onWriteFailed?: (failure: WriteFailure) => void;
}

/** WriteFailure is a write that some of its peers missed: ownerFailed = the 502 case. */
export interface WriteFailure {
  method: "PUT" | "DELETE";
  group: string;
  key: string;
  failed: WriteResult["failed"];
  ownerFailed: boolean;
}

/**
 * apiHandler answers `/api?key=K[&group=G]`. GET: 200 with the raw value; PUT (body = value,
 * optional `&ttl=30s`) and DELETE write through the whole cluster: 204, or 200 with JSON naming
 * the peers that could not be reached, or 502 when the key's owner could not. Errors: 400 no key or no body,
 * 401 missing token, 404 unknown key or group, 405 other methods, 413 value too large, 414 key
 * too long, 503 the loader failed. X-Geecache-Cache says hit or miss, X-Geecache-Owner which node
 * owns the key.
 */
export function apiHandler(options: ApiOptions): (req: Request) => Response | Promise<Response> {
  const { registry, owner, self, apiToken, apiReadToken, onWriteFailed } = options;
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  // Header sets of values that never expire, by owner then origin; Response copies them. The owner
  // strings come from the ring, so the lookup hashes nothing new.
  const sharedHeaders = new Map<string | undefined, Partial<Record<GetResult["from"], Headers>>>();
  const valueResponse = (r: GetResult, ownerUrl: string | undefined): Response => {
    if (r.expiresAt > 0) return new Response(r.value.view(), { headers: valueHeaders(r, ownerUrl) });
    let byFrom = sharedHeaders.get(ownerUrl);
    if (!byFrom) {
      if (sharedHeaders.size >= 256) sharedHeaders.clear(); // owners come and go with the peer list
      sharedHeaders.set(ownerUrl, (byFrom = {}));
    }
    const headers = (byFrom[r.from] ??= new Headers(valueHeaders(r, ownerUrl)));
    return new Response(r.value.view(), { headers });
  };
  const write = async (
    req: Request,
    params: QueryParams,
    key: string,
    group: Group,
    ownerUrl: string | undefined,
  ): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (ownerUrl) headers["x-geecache-owner"] = ownerUrl;
    try {
      const reported = (result: WriteResult): WriteResult => {
        if (result.failed.length > 0) {
          onWriteFailed?.({
            method: req.method === "DELETE" ? "DELETE" : "PUT",
            group: group.name,
            key,
            failed: result.failed,
            ownerFailed: result.failed.some((f) => f.peer === ownerUrl),
          });
        }
        return result;
      };
      if (req.method === "DELETE") return writeResponse(reported(await group.remove(key)), ownerUrl, headers);
      const ttlText = params.get("ttl");
      if (ttlText !== null && unitMissing(ttlText)) return text(400, unitHint("&ttl", ttlText));
      const ttl = ttlText === null ? undefined : parseDuration(ttlText);
      if (ttl === undefined && ttlText !== null)
        return text(400, `bad ttl ${JSON.stringify(ttlText)}: use a duration such as 30s, 5m or 1h`);
      // A PUT without a body (no Content-Length, not chunked) is a mistake, not an empty value (Content-Length: 0).
      if (!req.headers.has("content-length") && !req.headers.has("transfer-encoding")) return text(400, NO_VALUE);
      const body = await readBody(req, maxValueBytes);
      return writeResponse(reported(await group.set(key, body, { ttl })), ownerUrl, headers);
    } catch (err) {
      return failure(err, headers);
    }
  };
  const foreign = async (group: Group, key: string, r: GetResult, ownerUrl: string): Promise<Response> => {
    const at = r.expiresAt > 0 ? { expiresAt: r.expiresAt } : { ttl: 0 };
    group.setCopy(key, r.value, { ...at, written: r.written ?? 0 });
    try {
      return valueResponse(await group.getEntry(key), ownerUrl);
    } catch (err) {
      return failure(err, { "x-geecache-owner": ownerUrl });
    }
  };
  return (req) => {
    const method = req.method;
    const read = method === "GET" || method === "HEAD";
    if (!read && method !== "PUT" && method !== "DELETE") {
      return text(405, `method ${method} is not allowed on /api; use GET, PUT or DELETE`, {
        allow: "GET, HEAD, PUT, DELETE",
      });
    }
    const token = read ? apiReadToken : apiToken;
    if (token !== undefined && !bearerMatches(req, token)) {
      return text(401, `${read ? "reading" : "writing"} needs the API token: Authorization: Bearer <token>`, {
        "www-authenticate": "Bearer",
      });
    }
    const params = queryParams(req.url);
    if (method === "DELETE" && params.get("all") !== null) return purgeGroup(registry, params);
    const key = params.get("key");
    if (key === null || key === "") return text(400, "missing key: use /api?key=<key>");
    if (key.length > maxKeyBytes || Buffer.byteLength(key) > maxKeyBytes) {
      return text(414, `key is longer than the limit of ${maxKeyBytes} bytes`);
    }
    const groupName = params.get("group");
    let group: Group | undefined;
    if (groupName === null || groupName === "") {
      group = registry.first();
      if (!group) return text(404, "no groups are configured", UNKNOWN_GROUP);
    } else {
      group = registry.get(groupName);
      if (!group) return text(404, `no such group: ${groupName}`, UNKNOWN_GROUP);
    }
    const ownerUrl = owner?.(key);
    if (!read) return write(req, params, key, group, ownerUrl);
    // The signal is only read on a miss: making it costs every request, and a hit never waits.
    const pending = group.getEntry(key, {
      get signal() {
        return req.signal;
      },
    });
    // A hit is settled at once; answering it without a promise turn is a large share of a hit's cost.
    if (Bun.peek.status(pending) === "fulfilled") {
      const r = Bun.peek(pending) as GetResult;
      // A value this node took while standing in for the key's owner, left behind by a race with a ring
      // change: kept for the owner's handoff only, and the key asked of its owner.
      if (r.from === "main" && self !== undefined && ownerUrl !== undefined && ownerUrl !== self())
        return foreign(group, key, r, ownerUrl);
      return valueResponse(r, ownerUrl);
    }
    return pending.then(
      (r) => valueResponse(r, ownerUrl),
      (err) => failure(err, ownerUrl ? { "x-geecache-owner": ownerUrl } : {}),
    );
  };
}

function valueHeaders(r: GetResult, ownerUrl: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (ownerUrl) headers["x-geecache-owner"] = ownerUrl;
  headers["content-type"] = "application/octet-stream";
  headers["x-geecache-cache"] = r.from === "main" || r.from === "hot" ? "hit" : "miss";
  headers["x-geecache-from"] = r.from;
  if (r.expiresAt > 0) headers.expires = new Date(r.expiresAt).toUTCString();
  return headers;
}

function failure(err: unknown, headers: Record<string, string>): Response {
  return errorResponse(err, headers);
}

/**
 * purgeGroup answers `DELETE /api?group=G&all=true`: every entry of G dropped on every node (204, or 200 naming the
 * peers not reached).
 */
async function purgeGroup(registry: Registry, params: QueryParams): Promise<Response> {
  const all = params.get("all");
  if (all !== "true") return text(400, `all=true purges a whole group; got all=${JSON.stringify(all)}`);
  const name = params.get("group");
  if (name === null || name === "") return text(400, "a purge names its group: /api?group=<group>&all=true");
  const group = registry.get(name);
  if (!group) return text(404, `no such group: ${name}`, UNKNOWN_GROUP);
  const result = await group.purge();
  return writeResponse(result, undefined, {});
}

function writeResponse(result: WriteResult, ownerUrl: string | undefined, headers: Record<string, string>): Response {
  if (result.failed.length === 0) return new Response(null, { status: 204, headers });
  const ownerFailed = result.failed.some((f) => f.peer === ownerUrl);
  headers["x-geecache-failed-peers"] = result.failed.map((f) => f.peer).join(",");
  if (!ownerFailed) return json(200, { failed: result.failed }, headers);
  // Every error body is one line: the owner's failure first, then the other peers that failed.
  const owner = result.failed.find((f) => f.peer === ownerUrl)!;
  const others = result.failed.filter((f) => f !== owner).map((f) => f.peer);
  return text(
    502,
    `the owner ${owner.peer} could not be reached: ${owner.error}${others.length ? `; also unreachable: ${others.join(", ")}` : ""}`,
    headers,
  );
}

/** statsHandler answers `GET /stats` with every group's counters and cache figures, and the peers. */
export function statsHandler(options: {
  registry: Registry;
  self?: string;
  peers?: () => string[];
  cluster?: {
    readonly self: string;
    peers(): string[];
    health?(): Map<string, { down: boolean }>;
    out?(): Map<string, string>;
  };
  /** snapshot says what the node's last snapshot save and load did (--snapshot). */
  snapshot?: () => unknown;
  /** workers are the counters of each of the node's workers (--workers above 1). */
  workers?: () => unknown[] | undefined;
}): (req: Request) => Response {
  const { cluster } = options;
  return () => {
    const groups: Record<string, unknown> = {};
    for (const g of options.registry.groups()) {
      groups[g.name] = { stats: g.stats(), caches: g.cacheStats(), cacheBytes: g.cacheBytes };
    }
    const workers = options.workers?.();
    const down = cluster?.health ? [...cluster.health()].filter(([, h]) => h.down).map(([url]) => url) : [];
    const m = process.memoryUsage();
    // Where the process's bytes are: the JS heap (in Bun it holds the values' buffers too), and the rest of the RSS
    // (Bun, the allocator's kept pages).
    const memory = {
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    };
    return json(200, {
      self: cluster ? cluster.self : options.self,
      peers: cluster ? cluster.peers() : (options.peers?.() ?? []),
      down,
      // out: the listed peers that the ring this node routes by leaves out, and why (down, leaving)
      out: Object.fromEntries(cluster?.out?.() ?? []),
      groups,
      memory,
      ...(options.snapshot ? { snapshot: options.snapshot() } : {}),
      ...(workers ? { workers } : {}),
    });
  };
}
