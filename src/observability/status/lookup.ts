import type { TransportClient } from "../../cluster/transport.ts";
import { bearerMatches } from "../../core/bearer.ts";
import { DEFAULT_MAX_KEY_BYTES } from "../../core/limits.ts";
import { plainError } from "../../core/plain-error.ts";
import { ERROR_CODE_HEADER, json, text } from "../../core/responses.ts";
import { formatDuration } from "../../core/units.ts";
import type { Registry } from "../../group/registry.ts";

/** LOOKUP_PEER_TIMEOUT is how long (ms) a lookup waits for the key's owner to say what it holds. */
export const LOOKUP_PEER_TIMEOUT = 1000;
/** LOOKUP_PREVIEW_CHARS is how much of a cached value a lookup shows. */
export const LOOKUP_PREVIEW_CHARS = 200;

/** LookupOptions are what `/status/lookup` reads. */
export interface LookupOptions {
  registry: Registry;
  /** owner names the node that owns a key; self names this node. */
  owner?: (key: string) => string;
  self?: () => string;
  /** client is the peer client of the owner (its transport's lookup question, when it has one). */
  client?: (url: string) => Pick<TransportClient, "lookup"> | undefined;
  /** readToken, when set, is required (as the API's GET needs it) and sent on to the owner. */
  readToken?: string;
  maxKeyBytes?: number;
  timeout?: number;
}

/** Held is what one node holds of a key: cached or not, in which cache, and a preview. */
export interface Held {
  node: string;
  cached: boolean;
  where?: "main" | "hot";
  bytes?: number;
  /** expiresAt in Unix ms; 0 = never. */
  expiresAt?: number;
  /** value is the first LOOKUP_PREVIEW_CHARS characters, as UTF-8 text. */
  value?: string;
  truncated?: boolean;
  /** error says why the owner could not tell. */
  error?: string;
}

/** LookupReport is the body of `GET /status/lookup`: this node's and the owner's copy of a key. */
export interface LookupReport {
  key: string;
  group: string;
  owner: string;
  here: Held;
  /** atOwner is absent when this node is the owner (or asked with &local=1). */
  atOwner?: Held;
}

/**
 * lookupHandler answers `GET /status/lookup?key=K[&group=G][&local=1]` with a LookupReport: whether
 * the key is cached here and at its owner, and where (main or hot). It only peeks: it never loads,
 * never asks a source and moves no counter. The owner is asked the same question through its peer
 * client (an HTTP peer's /status/lookup with &local=1); a gRPC owner is named without an answer.
 */
export function lookupHandler(options: LookupOptions): (req: Request) => Response | Promise<Response> {
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const timeout = options.timeout ?? LOOKUP_PEER_TIMEOUT;
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") return text(405, "use GET", { allow: "GET, HEAD" });
    if (options.readToken !== undefined && !bearerMatches(req, options.readToken)) {
      return text(401, "reading needs the API token: Authorization: Bearer <token>", { "www-authenticate": "Bearer" });
    }
    const params = new URL(req.url).searchParams;
    const key = params.get("key") ?? "";
    if (key === "") return text(400, "missing key: use /status/lookup?key=<key>");
    if (Buffer.byteLength(key) > maxKeyBytes) return text(414, `key is longer than the limit of ${maxKeyBytes} bytes`);
    const name = params.get("group") || undefined;
    const group = name ? options.registry.get(name) : options.registry.first();
    if (!group)
      return text(404, name ? `no such group: ${name}` : "no groups are configured", {
        [ERROR_CODE_HEADER]: "UNKNOWN_GROUP",
      });
    const self = options.self?.() ?? "";
    const owner = options.owner?.(key) ?? self;
    const hit = group.peek(key);
    const here: Held = hit
      ? held(self, hit.from as "main" | "hot", hit.value.toString(), hit.value.length, hit.expiresAt)
      : { node: self, cached: false };
    const report: LookupReport = { key, group: group.name, owner, here };
    if (params.get("local") !== "1" && owner !== self && owner !== "")
      report.atOwner = await askOwner(options.client?.(owner), owner, key, group.name, req, timeout);
    return json(200, report, { "cache-control": "no-store" });
  };
}

function held(node: string, where: "main" | "hot", value: string, bytes: number, expiresAt: number): Held {
  const truncated = value.length > LOOKUP_PREVIEW_CHARS;
  return {
    node,
    cached: true,
    where,
    bytes,
    expiresAt,
    value: truncated ? value.slice(0, LOOKUP_PREVIEW_CHARS) : value,
    truncated,
  };
}

async function askOwner(
  client: Pick<TransportClient, "lookup"> | undefined,
  owner: string,
  key: string,
  group: string,
  req: Request,
  timeout: number,
): Promise<Held> {
  if (!client?.lookup) return { node: owner, cached: false, error: "not an http(s) peer: ask its HTTP port" };
  const signal = AbortSignal.timeout(timeout);
  try {
    const theirs = (await client.lookup(
      group,
      key,
      signal,
      req.headers.get("authorization") ?? undefined,
    )) as LookupReport;
    return { ...theirs.here, node: owner };
  } catch (err) {
    return {
      node: owner,
      cached: false,
      error: signal.aborted ? `no answer within ${formatDuration(timeout)}` : plainError(err, { peer: owner }),
    };
  }
}
