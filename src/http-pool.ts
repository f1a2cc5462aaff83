import { Ring, type RingOptions } from "./consistent-hash.ts";
import { errorMessage, GeeCacheError, httpStatus } from "./errors.ts";
import { HttpPeer } from "./http-peer.ts";
import type { PeerPicker } from "./peers.ts";
import { encodeResponse } from "./protocol.ts";
import { text } from "./responses.ts";
import type { Registry } from "./registry.ts";

/** DEFAULT_BASE_PATH is where peer routes live, as GeeCache's `/_geecache/`. */
export const DEFAULT_BASE_PATH = "/_geecache/";
/** DEFAULT_PEER_TIMEOUT bounds one peer request: 2 s. */
export const DEFAULT_PEER_TIMEOUT = 2000;

/** HttpPoolOptions configures a node's view of its peers. */
export interface HttpPoolOptions extends RingOptions {
  /** self is this node's URL exactly as the other nodes list it. */
  self: string;
  basePath?: string;
  peerTimeout?: number;
  /** token is the peers' shared secret, sent as `Authorization: Bearer`. */
  token?: string;
  fetch?: typeof fetch;
  tls?: { ca?: string };
}

/**
 * HttpPool places peers on a consistent-hash ring, picks a key's owner (undefined when that is
 * this node), and serves the peer route `{basePath}{group}/{key}` for the other nodes.
 */
export class HttpPool implements PeerPicker {
  readonly self: string;
  readonly basePath: string;
  readonly peerTimeout: number;
  readonly #ring: Ring;
  readonly #ringOptions: RingOptions;
  #getters = new Map<string, HttpPeer>(); // one client per peer but self
  readonly #options: HttpPoolOptions;

  constructor(options: HttpPoolOptions) {
    this.self = normalizeUrl(options.self);
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
    if (!this.basePath.startsWith("/") || !this.basePath.endsWith("/")) {
      throw new RangeError(`HttpPool basePath must start and end with "/", got ${JSON.stringify(this.basePath)}`);
    }
    this.peerTimeout = options.peerTimeout ?? DEFAULT_PEER_TIMEOUT;
    if (!(this.peerTimeout > 0)) throw new RangeError(`HttpPool peerTimeout must be > 0 ms, got ${this.peerTimeout}`);
    this.#ringOptions = { replicas: options.replicas, hash: options.hash };
    this.#ring = new Ring(this.#ringOptions);
    this.#options = options;
    this.#ring.add(this.self);
  }

  /** setPeers replaces the peer list (self is always on the ring, listed or not). */
  setPeers(peers: Iterable<string>): void {
    const urls = [...new Set([...peers].map(normalizeUrl))];
    if (!urls.includes(this.self)) urls.push(this.self);
    this.#ring.set(urls);
    const getters = new Map<string, HttpPeer>();
    for (const url of urls) {
      if (url === this.self) continue;
      getters.set(
        url,
        this.#getters.get(url) ??
          new HttpPeer({
            url,
            basePath: this.basePath,
            timeout: this.peerTimeout,
            headers: this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : undefined,
            fetch: this.#options.fetch,
            tls: this.#options.tls,
          }),
      );
    }
    this.#getters = getters;
  }

  /** peers lists every node on the ring, self included. */
  peers(): string[] {
    return this.#ring.peers();
  }

  /** owner returns the URL of the node that owns key. */
  owner(key: string): string {
    return this.#ring.get(key) ?? this.self;
  }

  /** shares returns each node's fraction of the key space. */
  shares(): Map<string, number> {
    return this.#ring.shares();
  }

  /** pickPeer returns the client of key's owner, or undefined when this node owns it. */
  pickPeer(key: string): HttpPeer | undefined {
    const owner = this.#ring.get(key);
    return owner === undefined || owner === this.self ? undefined : this.#getters.get(owner);
  }

  /** peer returns the client of one peer by URL (undefined for self or a stranger). */
  peer(url: string): HttpPeer | undefined {
    return this.#getters.get(url);
  }

  /** handler answers the peer route from registry's groups; it always loads locally, never forwards. */
  handler(registry: Registry): (req: Request) => Promise<Response> {
    const base = this.basePath;
    return async (req) => {
      const url = new URL(req.url);
      const path = url.pathname;
      if (!path.startsWith(base)) return text(404, `no route ${path}`);
      if (req.method !== "GET" && req.method !== "HEAD") {
        return text(405, `method ${req.method} is not allowed on peer routes; use GET`, { allow: "GET, HEAD" });
      }
      const rest = path.slice(base.length);
      const slash = rest.indexOf("/");
      if (slash <= 0 || slash === rest.length - 1) return text(400, `malformed peer path: expected ${base}<group>/<key>`);
      let groupName: string;
      let key: string;
      try {
        groupName = decodeURIComponent(rest.slice(0, slash));
        key = decodeURIComponent(rest.slice(slash + 1));
      } catch {
        return text(400, "malformed peer path: bad percent-encoding");
      }
      const group = registry.get(groupName);
      if (!group) return text(404, `no such group: ${groupName}`);
      try {
        const r = await group.getLocal(key, { signal: req.signal });
        return new Response(encodeResponse(r.value, r.expiresAt), { headers: PROTOBUF_HEADERS });
      } catch (err) {
        return text(httpStatus(err) === 500 ? 503 : httpStatus(err), errorMessage(err));
      }
    };
  }
}

const PROTOBUF_HEADERS = { "content-type": "application/x-protobuf" };

/** normalizeUrl drops trailing slashes so `http://a:1/` and `http://a:1` are one peer. */
function normalizeUrl(url: string): string {
  if (!/^https?:\/\/[^/]+/.test(url)) throw new GeeCacheError("INVALID_ARGUMENT", `peer URL must look like http://host:port, got ${JSON.stringify(url)}`);
  return url.replace(/\/+$/, "");
}
