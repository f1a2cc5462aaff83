import { GeeCacheError } from "./errors.ts";
import type { Group } from "./group.ts";
import type { Registry } from "./registry.ts";
import { errorResponse, json, text } from "./responses.ts";

/** DEFAULT_MAX_KEY_BYTES is the longest key the API accepts: 4 KiB of UTF-8. */
export const DEFAULT_MAX_KEY_BYTES = 4096;

/** ApiOptions configures the public API routes. */
export interface ApiOptions {
  registry: Registry;
  /** owner names the node that owns a key (for the X-Geecache-Owner header). */
  owner?: (key: string) => string;
  maxKeyBytes?: number;
}

/**
 * apiHandler answers `GET /api?key=K[&group=G]` with the raw value: 200, or 400 (no key), 404
 * (unknown key or group), 414 (key too long), 405 (other methods), 503 (the loader failed).
 * X-Geecache-Cache says hit or miss and X-Geecache-Owner which node owns the key.
 */
export function apiHandler(options: ApiOptions): (req: Request) => Promise<Response> {
  const { registry, owner } = options;
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, `method ${req.method} is not allowed on /api; use GET`, { allow: "GET, HEAD" });
    }
    const params = new URL(req.url).searchParams;
    const key = params.get("key");
    if (key === null || key === "") return text(400, "missing key: use /api?key=<key>");
    if (key.length > maxKeyBytes || Buffer.byteLength(key) > maxKeyBytes) {
      return text(414, `key is longer than the limit of ${maxKeyBytes} bytes`);
    }
    const groupName = params.get("group");
    let group: Group | undefined;
    if (groupName === null || groupName === "") {
      group = registry.first();
      if (!group) return text(404, "no groups are configured");
    } else {
      group = registry.get(groupName);
      if (!group) return text(404, `no such group: ${groupName}`);
    }
    const headers: Record<string, string> = {};
    if (owner) headers["x-geecache-owner"] = owner(key);
    try {
      const r = await group.getEntry(key, { signal: req.signal });
      headers["content-type"] = "application/octet-stream";
      headers["x-geecache-cache"] = r.from === "main" || r.from === "hot" ? "hit" : "miss";
      headers["x-geecache-from"] = r.from;
      if (r.expiresAt > 0) headers["expires"] = new Date(r.expiresAt).toUTCString();
      return new Response(r.value.blob(), { headers });
    } catch (err) {
      if (err instanceof GeeCacheError && err.code === "TOO_LARGE") return text(414, err.message, headers);
      return errorResponse(err, headers);
    }
  };
}

/** statsHandler answers `GET /stats` with every group's counters and cache figures, and the peers. */
export function statsHandler(options: { registry: Registry; self?: string; peers?: () => string[] }): (req: Request) => Response {
  return () => {
    const groups: Record<string, unknown> = {};
    for (const g of options.registry.groups()) {
      groups[g.name] = { stats: g.stats(), caches: g.cacheStats(), cacheBytes: g.cacheBytes };
    }
    return json(200, { self: options.self, peers: options.peers?.() ?? [], groups });
  };
}
