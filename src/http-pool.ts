import { Ring, type RingOptions } from "./consistent-hash.ts";
import { errorMessage, GeeCacheError } from "./errors.ts";
import type { GetResult, Group } from "./group.ts";
import { HttpPeer } from "./http-peer.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "./limits.ts";
import { observePeer, type PeerObserver } from "./peer-observer.ts";
import type { PeerPicker } from "./peers.ts";
import { bearerMatches } from "./auth.ts";
import { decodeResponse, encodeResponse } from "./protocol.ts";
import { errorResponse, pathOf, readBody, text } from "./responses.ts";
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
  /** token is the peers' shared secret, sent as `Authorization: Bearer` and required on the peer routes. */
  token?: string;
  /** maxValueBytes bounds a value written by a peer's PUT. */
  maxValueBytes?: number;
  fetch?: typeof fetch;
  tls?: { ca?: string };
  /** onPeerRequest is told how every request to a peer went and how long it took (metrics, peer health). */
  onPeerRequest?: PeerObserver;
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
    if (options.token !== undefined && (typeof options.token !== "string" || options.token === "")) {
      throw new TypeError("HttpPool token must be a non-empty string (or left out for no token)");
    }
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
          observePeer(new HttpPeer({
            url,
            basePath: this.basePath,
            timeout: this.peerTimeout,
            headers: this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : undefined,
            fetch: this.#options.fetch,
            tls: this.#options.tls,
          }), this.#options.onPeerRequest),
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
    // URLs collapse the path segments "." and ".." (even as %2E), so these two keys cannot travel
    // on the peer route: every node loads them itself rather than count a peer error each time.
    if (key === "." || key === "..") return undefined;
    const owner = this.#ring.get(key);
    return owner === undefined || owner === this.self ? undefined : this.#getters.get(owner);
  }

  /** remotePeers lists the clients of every peer but this node. */
  remotePeers(): HttpPeer[] {
    return [...this.#getters.values()];
  }

  /** peer returns the client of one peer by URL (undefined for self or a stranger). */
  peer(url: string): HttpPeer | undefined {
    return this.#getters.get(url);
  }

  /**
   * handler answers the peer routes from registry's groups: GET loads locally (never forwards),
   * PUT stores a protobuf-encoded value in the main cache, DELETE drops the key from both caches.
   */
  handler(registry: Registry): (req: Request) => Response | Promise<Response> {
    const base = this.basePath;
    const token = this.#options.token;
    const maxValueBytes = this.#options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
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
          return text(400, `malformed body: ${errorMessage(err)}`);
        }
        const { value, expiresAt } = decoded;
        if (value.length > maxValueBytes) return text(413, `value is ${value.length} bytes, over the limit of ${maxValueBytes}`);
        group.setLocal(key, value, expiresAt > 0 ? { expiresAt } : { ttl: 0 }); // expire 0 on the wire = never
        return new Response(null, { status: 204 });
      } catch (err) {
        return peerFailure(err);
      }
    };
    return (req) => {
      if (token !== undefined && !bearerMatches(req, token)) {
        return text(401, "peer routes need the cluster token: Authorization: Bearer <token>", { "www-authenticate": "Bearer" });
      }
      const method = req.method;
      if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "DELETE") {
        return text(405, `method ${method} is not allowed on peer routes; use GET, PUT or DELETE`, { allow: "GET, HEAD, PUT, DELETE" });
      }
      const path = pathOf(req.url);
      if (!path.startsWith(base)) return text(404, `no route ${path}`);
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
      if (method === "PUT" || method === "DELETE") return write(req, group, key);
      // As on /api: the signal is made only for a miss, and a hit is answered without a promise turn.
      const pending = group.getLocal(key, { get signal() { return req.signal; } });
      if (Bun.peek.status(pending) === "fulfilled") return valueAnswer(Bun.peek(pending) as GetResult);
      return pending.then(valueAnswer, peerFailure);
    };
  }
}

const PROTOBUF_HEADERS = { "content-type": "application/x-protobuf" };

function valueAnswer(r: GetResult): Response {
  try {
    return new Response(encodeResponse(r.value, r.expiresAt), { headers: PROTOBUF_HEADERS });
  } catch (err) {
    return peerFailure(err);
  }
}

function peerFailure(err: unknown): Response {
  return errorResponse(err);
}

/** normalizeUrl drops trailing slashes so `http://a:1/` and `http://a:1` are one peer. */
function normalizeUrl(url: string): string {
  if (!/^https?:\/\/[^/]+/.test(url)) throw new GeeCacheError("INVALID_ARGUMENT", `peer URL must look like http://host:port, got ${JSON.stringify(url)}`);
  return url.replace(/\/+$/, "");
}
