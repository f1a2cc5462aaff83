import { Ring, type RingOptions } from "../core/consistent-hash.ts";
import { GeeCacheError } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { PeerPicker } from "../group/peers.ts";
import { closeQuietly } from "./_close-quietly.ts";
import { DEFAULT_DNS_INTERVAL } from "./dns-discovery.ts";
import { Handoff, type HandoffStats, handoffWindow } from "./handoff.ts";
import { type HealthOptions, type PeerHealthState, withHealth } from "./health.ts";
import { observePeer, type PeerObserver } from "./observe.ts";
import { peerUrl } from "./peer-url.ts";
import type { PeerTransport, TransportClient } from "./transport.ts";

export { type HandoffStats, handoffWindow } from "./handoff.ts";

/** DEFAULT_COPIES: a written value lives on its owner only unless told otherwise. */
export const DEFAULT_COPIES = 1;

/** DEFAULT_PEER_TIMEOUT bounds one peer request: 2 s. */
export const DEFAULT_PEER_TIMEOUT = 2000;
/** DEFAULT_HANDOFF_WINDOW is handoffWindow of the default DNS interval and peer timeout: 12 s. */
export const DEFAULT_HANDOFF_WINDOW = handoffWindow(DEFAULT_DNS_INTERVAL, DEFAULT_PEER_TIMEOUT);

/** MembershipChange is what one setPeers call changed: the nodes that joined and left (self never appears). */
export interface MembershipChange {
  joined: string[];
  left: string[];
  /** peers is the whole ring after the change, self included. */
  peers: string[];
}

/** PeerSetOptions configure a node's view of its cluster. */
export interface PeerSetOptions extends RingOptions {
  /**
   * self is this node's URL exactly as the other nodes list it; it may be set later with setSelf (a node on port 0).
   */
  self?: string;
  /** transports speak to peers; each peer URL goes to the first transport that accepts it. */
  transports: readonly PeerTransport[];
  /** onPeerRequest is told how every request to a peer went and how long it took (metrics, peer health). */
  onPeerRequest?: PeerObserver;
  /** onChange is told of every change of membership (logs, metrics). */
  onChange?: (change: MembershipChange) => void;
  /** health marks a failing peer down and probes it (default on); false turns it off. */
  health?: HealthOptions | false;
  /**
   * copies is on how many nodes a written value lives: its owner and the next copies - 1 nodes of the ring (default 1).
   */
  copies?: number;
  /** handoffWindow (ms) is how long after a change a new owner peeks a key's previous owner; 0 = never. */
  handoffWindow?: number;
  now?: () => number;
}

interface Member {
  client: TransportClient;
  address: string;
  health?: () => PeerHealthState;
}

/**
 * PeerSet is a node's cluster: the consistent-hash ring of every node (self included), and one
 * client per other node, made by the transport that speaks its URL. It picks a key's owner for the
 * group and knows nothing of any wire protocol. Membership may change at run time: a get that
 * already picked its owner finishes with that client; clients of nodes that left are closed once
 * the handoff window in which their cached copies may still be peeked has passed.
 */
export class PeerSet implements PeerPicker {
  readonly transports: readonly PeerTransport[];
  /** handoff counts the peeks this node made at previous owners. */
  readonly handoff: HandoffStats;
  /** changes counts the changes of membership applied since start. */
  changes = 0;
  #self: string | undefined;
  #listed: string[] = []; // the last list given to setPeers, normalized
  #addresses: ReadonlyMap<string, string> = new Map();
  #ring: Ring;
  #members = new Map<string, Member>(); // one per peer but self
  readonly #ringOptions: RingOptions;
  readonly #options: PeerSetOptions;
  readonly #window: number;
  readonly #handoff: Handoff;

  constructor(options: PeerSetOptions) {
    if (!options.transports || options.transports.length === 0)
      throw new TypeError("PeerSet needs at least one transport");
    if (options.copies !== undefined && !(Number.isInteger(options.copies) && options.copies >= 1))
      throw new RangeError(`PeerSet copies must be a whole number >= 1, got ${options.copies}`);
    this.transports = options.transports;
    this.#options = options;
    this.#window = options.handoffWindow ?? DEFAULT_HANDOFF_WINDOW;
    if (!(this.#window >= 0)) throw new RangeError(`PeerSet handoffWindow must be >= 0 ms, got ${this.#window}`);
    this.#handoff = new Handoff(this.#window, options.now ?? Date.now, () => this.#members);
    this.handoff = this.#handoff.stats;
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
    if (this.#self !== undefined && this.#self !== self)
      throw new GeeCacheError("INVALID_ARGUMENT", `PeerSet self is already ${this.#self}`);
    this.#self = self;
    this.#apply(false);
  }

  /**
   * setPeers replaces the peer list (self is always on the ring, listed or not) and reports what
   * changed. addresses maps a peer's name to where it is reached when the two differ (SRV).
   */
  setPeers(urls: Iterable<string>, addresses?: ReadonlyMap<string, string>): MembershipChange {
    this.#listed = [...new Set([...urls].map((u) => this.#normalize(u)))];
    const normal = new Map<string, string>();
    for (const [name, address] of addresses ?? []) normal.set(this.#normalize(name), this.#normalize(address));
    this.#addresses = normal;
    return this.#apply(true);
  }

  #apply(remember: boolean): MembershipChange {
    const urls = [...this.#listed];
    if (this.#self !== undefined && !urls.includes(this.#self)) urls.push(this.#self);
    const before = this.#members;
    const members = new Map<string, Member>();
    for (const url of urls) {
      if (url === this.#self) continue;
      const address = this.#addresses.get(url) ?? url;
      const old = before.get(url);
      members.set(url, old && old.address === address ? old : this.#member(url, address));
    }
    const ring = new Ring(this.#ringOptions);
    ring.set(urls);
    const joined = [...members.keys()].filter((u) => !before.has(u));
    const left = [...before.keys()].filter((u) => !members.has(u));
    const moved = [...members.keys()].filter((u) => before.has(u) && before.get(u) !== members.get(u));
    const changed = joined.length > 0 || left.length > 0;
    // The ring before a change is kept for handoff peeks, with the clients of nodes that left.
    if (remember && changed && this.#window > 0)
      this.#handoff.remember(before, members, before.size === 0 ? this.#ringWithout(urls) : this.#ring);
    else for (const url of left) void closeQuietly(before.get(url)!.client);
    for (const url of moved) void closeQuietly(before.get(url)!.client);
    // A new ring, swapped in whole: a lookup in flight sees the old ring or the new one, never half of each.
    this.#ring = ring;
    this.#members = members;
    const change = { joined, left, peers: ring.peers() };
    if (changed) {
      this.changes++;
      this.#options.onChange?.(change);
    }
    return change;
  }

  #ringWithout(urls: string[]): Ring {
    const ring = new Ring(this.#ringOptions);
    ring.set(urls.filter((u) => u !== this.#self));
    return ring;
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

  /**
   * pickPeer returns the client of key's owner, or undefined when this node owns it (or its transport cannot carry the
   * key).
   */
  pickPeer(key: string): TransportClient | undefined {
    const owner = this.#ring.get(key);
    if (owner === undefined || owner === this.#self) return undefined;
    const client = this.#members.get(owner)?.client;
    return client?.unroutable?.(key) ? undefined : client;
  }

  /**
   * previousOwner returns the client of the node that owned key before the last change, while the handoff window lasts
   * (undefined if that was this node or the same owner).
   */
  previousOwner(key: string): TransportClient | undefined {
    return this.#handoff.previousOwner(key, this.#self, this.#ring);
  }

  /**
   * peekPrevious asks key's previous owner for its cached copy only (see PeerPicker); failures count and resolve
   * undefined.
   */
  peekPrevious(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined> {
    return this.#handoff.peek(this.previousOwner(key), group, key, signal);
  }

  /** copies is on how many nodes a written value lives (1 = its owner only). */
  get copies(): number {
    return this.#options.copies ?? DEFAULT_COPIES;
  }

  /** copyHolders returns where the copies of a written value of key live besides its owner ("self" for this node). */
  copyHolders(key: string): Array<TransportClient | "self"> {
    const n = this.copies;
    if (n <= 1) return [];
    const out: Array<TransportClient | "self"> = [];
    for (const url of this.#ring.getN(key, n).slice(1)) {
      if (url === this.#self) out.push("self");
      else {
        const client = this.#members.get(url)?.client;
        if (client && !client.unroutable?.(key)) out.push(client);
      }
    }
    return out;
  }

  /** remotePeers lists the clients of every peer but this node. */
  remotePeers(): TransportClient[] {
    return [...this.#members.values()].map((m) => m.client);
  }

  /** peer returns the client of one peer by URL (undefined for self or a stranger). */
  peer(url: string): TransportClient | undefined {
    return this.#members.get(url)?.client;
  }

  /** close closes every client and transport. */
  async close(): Promise<void> {
    const clients = [...[...this.#members.values()].map((m) => m.client), ...this.#handoff.clear()];
    this.#members = new Map();
    await Promise.allSettled([...new Set(clients)].map((c) => c.close?.()));
    await Promise.allSettled(this.transports.map((t) => t.close?.()));
  }

  #member(url: string, address: string): Member {
    const client = observePeer(
      this.#transportFor(url).client(url, address === url ? undefined : address),
      this.#options.onPeerRequest,
    );
    if (this.#options.health === false) return { address, client };
    const guarded = withHealth(client, this.#options.health);
    return { address, client: guarded, health: guarded.health };
  }

  /** health returns what this node knows of each peer's health (peers without tracking are left out). */
  health(): Map<string, PeerHealthState> {
    const out = new Map<string, PeerHealthState>();
    for (const [url, m] of this.#members) if (m.health) out.set(url, m.health());
    return out;
  }

  #normalize(url: string): string {
    const normal = peerUrl(url);
    this.#transportFor(normal);
    return normal;
  }

  #transportFor(url: string): PeerTransport {
    const t = this.transports.find((tr) => tr.accepts(url));
    if (!t)
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `no transport speaks to peer ${url} (have ${this.transports.map((tr) => tr.name).join(", ")})`,
      );
    return t;
  }
}
