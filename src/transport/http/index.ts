import { PeerService } from "../../cluster/peer-service.ts";
import { DEFAULT_PEER_TIMEOUT } from "../../cluster/peer-set.ts";
import type { PeerTransport } from "../../cluster/transport.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "../../core/limits.ts";
import { HttpPeer } from "./client.ts";
import { peerRoutes } from "./routes.ts";

/** DEFAULT_BASE_PATH is where peer routes live, as GeeCache's `/_geecache/`. */
export const DEFAULT_BASE_PATH = "/_geecache/";

/** HttpTransportOptions configure the HTTP/1.1 peer protocol of Go GeeCache and groupcache. */
export interface HttpTransportOptions {
  basePath?: string;
  /** timeout bounds one peer request in ms. */
  timeout?: number;
  /** token is the peers' shared secret, sent as `Authorization: Bearer` and required on the peer routes. */
  token?: string;
  /** maxValueBytes bounds a value written by a peer's PUT. */
  maxValueBytes?: number;
  fetch?: typeof fetch;
  tls?: { ca?: string };
  /** bootId names this process in its answers to peers (see BOOT_HEADER); default a new random id. */
  bootId?: string;
  /** refused is told of each peer request refused for its token. */
  refused?: (what: string) => void;
}

/** HttpTransport is the HTTP peer transport with its settings checked and filled in. */
export interface HttpTransport extends PeerTransport {
  readonly basePath: string;
  readonly timeout: number;
}

/**
 * httpTransport speaks to http:// and https:// peers (`GET {url}{basePath}{group}/{key}`, a
 * protobuf body back) and answers them on the node's own listener under basePath.
 */
export function httpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const basePath = options.basePath ?? DEFAULT_BASE_PATH;
  if (!/^\/([^?#]*\/)?$/.test(basePath))
    throw new RangeError(`HTTP transport basePath must start and end with "/", got ${JSON.stringify(basePath)}`);
  const timeout = options.timeout ?? DEFAULT_PEER_TIMEOUT;
  if (!(timeout > 0)) throw new RangeError(`HTTP transport timeout must be > 0 ms, got ${timeout}`);
  const { token } = options;
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw new TypeError("HTTP transport token must be a non-empty string (or left out for no token)");
  }
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (!(Number.isInteger(maxValueBytes) && maxValueBytes > 0))
    throw new RangeError(`HTTP transport maxValueBytes must be a whole number > 0, got ${maxValueBytes}`);
  const bootId = options.bootId ?? crypto.randomUUID();
  return {
    name: "http",
    bootId,
    basePath,
    timeout,
    accepts: (url) => url.startsWith("http://") || url.startsWith("https://"),
    client: (url, address) =>
      new HttpPeer({ url, address, basePath, timeout, headers, fetch: options.fetch, tls: options.tls }),
    routes: (groups) => ({
      prefix: basePath,
      handler: peerRoutes(new PeerService(groups, { maxValueBytes }), {
        basePath,
        token,
        bootId,
        refused: options.refused,
      }),
    }),
  };
}
