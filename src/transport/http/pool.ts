import type { PeerObserver } from "../../cluster/observe.ts";
import { PeerSet } from "../../cluster/peer-set.ts";
import type { Handler } from "../../cluster/transport.ts";
import type { RingOptions } from "../../core/consistent-hash.ts";
import type { Registry } from "../../group/registry.ts";
import { type HttpTransport, type HttpTransportOptions, httpTransport } from "./index.ts";

/** HttpPoolOptions configure a PeerSet of HTTP peers in one object, as before the transport seam. */
export interface HttpPoolOptions extends RingOptions, Omit<HttpTransportOptions, "timeout"> {
  /** self is this node's URL exactly as the other nodes list it (or set later with setSelf). */
  self?: string;
  peerTimeout?: number;
  /** onPeerRequest is told how every request to a peer went and how long it took (metrics, peer health). */
  onPeerRequest?: PeerObserver;
}

/** HttpPool is a PeerSet over the HTTP transport alone: the library's one-line way to a cluster of HTTP peers. */
export class HttpPool extends PeerSet {
  readonly basePath: string;
  readonly peerTimeout: number;
  readonly #http: HttpTransport;

  constructor(options: HttpPoolOptions) {
    if (options.peerTimeout !== undefined && !(options.peerTimeout > 0))
      throw new RangeError(`HttpPool peerTimeout must be > 0 ms, got ${options.peerTimeout}`);
    const http = httpTransport({ ...options, timeout: options.peerTimeout });
    super({
      self: options.self,
      replicas: options.replicas,
      hash: options.hash,
      transports: [http],
      onPeerRequest: options.onPeerRequest,
    });
    this.#http = http;
    this.basePath = http.basePath;
    this.peerTimeout = http.timeout;
  }

  /** handler answers the peer routes `{basePath}{group}/{key}` from registry's groups. */
  handler(registry: Registry): Handler {
    return this.#http.routes!(registry).handler;
  }
}
