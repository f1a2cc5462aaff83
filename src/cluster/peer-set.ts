import { Ring, type RingOptions } from "../core/consistent-hash.ts";
import { GeeCacheError } from "../core/errors.ts";
import type { PeerPicker } from "../group/peers.ts";
import { observePeer, type PeerObserver } from "./observe.ts";
import { peerUrl } from "./peer-url.ts";
import type { PeerTransport, TransportClient } from "./transport.ts";

/** DEFAULT_PEER_TIMEOUT bounds one peer request: 2 s. */
export const DEFAULT_PEER_TIMEOUT = 2000;

/** MembershipChange is what one setPeers call changed: the nodes that joined and left (self never appears). */
export interface MembershipChange {
  joined: string[];
  left: string[];
  /** peers is the whole ring after the change, self included. */
  peers: string[];
}

/** PeerSetOptions configure a node's view of its cluster. */
export interface PeerSetOptions extends RingOptions {
  /** self is this node's URL exactly as the other nodes list it; it may be set later with setSelf (a node on port 0). */
  self?: string;
  /** transports speak to peers; each peer URL goes to the first transport that accepts it. */
  transports: readonly PeerTransport[];
  /** onPeerRequest is told how every request to a peer went and how long it took (metrics, peer health). */
  onPeerRequest?: PeerObserver;
  /** onChange is told of every change of membership (logs, metrics). */
  onChange?: (change: MembershipChange) => void;
}

/**
 * PeerSet is a node's cluster: the consistent-hash ring of every node (self included), and one
 * client per other node, made by the transport that speaks its URL. It picks a key's owner for the
 * group and knows nothing of any wire protocol. Membership may change at run time: a get that
 * already picked its owner finishes with that client; clients of nodes that left are closed.
 */
export class PeerSet implements PeerPicker {
  readonly transports: readonly PeerTransport[];
  #self: string | undefined;
  #listed: string[] = []; // the last list given to setPeers, normalized
  #ring: Ring;
  readonly #ringOptions: RingOptions;
  #clients = new Map<string, TransportClient>(); // one per peer but self
  readonly #options: PeerSetOptions;

  constructor(options: PeerSetOptions) {
    if (!options.transports || options.transports.length === 0) throw new TypeError("PeerSet needs at least one transport");
    this.transports = options.transports;
    this.#options = options;
    this.#ringOptions = { replicas: options.replicas, hash: options.hash };
    this.#ring = new Ring(this.#ringOptions);
    if (options.self !== undefined) this.setSelf(options.self);
  }

  /** self is this node's URL on the ring ("" until it is known). */
  get self(): string {
    return this.#self ?? "";
  }

  /** setSelf names this node once it knows its address (after listening on port 0); it can be called once. */
  setSelf(url: string): void {
    const self = this.#normalize(url);
    if (this.#self !== undefined && this.#self !== self) throw new GeeCacheError("INVALID_ARGUMENT", `PeerSet self is already ${this.#self}`);
    this.#self = self;
    this.#apply(this.#listed);
  }

  /** setPeers replaces the peer list (self is always on the ring, listed or not) and reports what changed. */
  setPeers(urls: Iterable<string>): MembershipChange {
    const listed = [...new Set([...urls].map((u) => this.#normalize(u)))];
    this.#listed = listed;
    return this.#apply(listed);
  }

  #apply(listed: string[]): MembershipChange {
    const urls = [...listed];
    if (this.#self !== undefined && !urls.includes(this.#self)) urls.push(this.#self);
    const before = this.#clients;
    const clients = new Map<string, TransportClient>();
    for (const url of urls) {
      if (url === this.#self) continue;
      clients.set(url, before.get(url) ?? observePeer(this.#transportFor(url).client(url), this.#options.onPeerRequest));
    }
    // A new ring, swapped in whole: a lookup in flight sees the old ring or the new one, never half of each.
    const ring = new Ring(this.#ringOptions);
    ring.set(urls);
    this.#ring = ring;
    this.#clients = clients;
    const joined = [...clients.keys()].filter((u) => !before.has(u));
    const left = [...before.keys()].filter((u) => !clients.has(u));
    for (const url of left) void Promise.resolve(before.get(url)!.close?.()).catch(() => {});
    const change = { joined, left, peers: ring.peers() };
    if (joined.length || left.length) this.#options.onChange?.(change);
    return change;
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

  /** pickPeer returns the client of key's owner, or undefined when this node owns it (or its transport cannot carry the key). */
  pickPeer(key: string): TransportClient | undefined {
    const owner = this.#ring.get(key);
    if (owner === undefined || owner === this.#self) return undefined;
    const client = this.#clients.get(owner);
    return client?.unroutable?.(key) ? undefined : client;
  }

  /** remotePeers lists the clients of every peer but this node. */
  remotePeers(): TransportClient[] {
    return [...this.#clients.values()];
  }

  /** peer returns the client of one peer by URL (undefined for self or a stranger). */
  peer(url: string): TransportClient | undefined {
    return this.#clients.get(url);
  }

  /** close closes every client and transport. */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients = new Map();
    await Promise.allSettled([...clients.map((c) => c.close?.()), ...this.transports.map((t) => t.close?.())]);
  }

  #normalize(url: string): string {
    const normal = peerUrl(url);
    this.#transportFor(normal);
    return normal;
  }

  #transportFor(url: string): PeerTransport {
    const t = this.transports.find((tr) => tr.accepts(url));
    if (!t) throw new GeeCacheError("INVALID_ARGUMENT", `no transport speaks to peer ${url} (have ${this.transports.map((tr) => tr.name).join(", ")})`);
    return t;
  }
}
