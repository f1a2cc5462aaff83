import { Ring, type RingOptions } from "../core/consistent-hash.ts";
import { GeeCacheError } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { PeerPicker } from "../group/peers.ts";
import { closeQuietly } from "./_close-quietly.ts";
import { announce } from "./announce.ts";
import { DEFAULT_HANDOFF_WINDOW, Handoff, type HandoffStats } from "./handoff.ts";
import { type PeerHealthState, withHealth } from "./health.ts";
import { observePeer } from "./observe.ts";
import type { MemberState } from "./peer-service.ts";
import {
  DEFAULT_COPIES,
  type Member,
  type MembershipChange,
  type OutReason,
  type PeerSetOptions,
} from "./peer-set-options.ts";
import { peerUrl } from "./peer-url.ts";
import { type PeerTransport, speakerOf, type TransportClient } from "./transport.ts";
import { copyHolders, samePeers, View } from "./view.ts";

export { DEFAULT_HANDOFF_WINDOW, type HandoffStats } from "./handoff.ts";
export * from "./peer-set-options.ts";

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
  readonly #view = new View(); // listed nodes left out of the ring (down, leaving)
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
    this.#view.forget(members, before);
    const ring = new Ring(this.#ringOptions);
    ring.set(urls.filter((u) => this.#view.keeps(u, this.#self)));
    const joined = [...members.keys()].filter((u) => !before.has(u));
    const left = [...before.keys()].filter((u) => !members.has(u));
    const moved = [...members.keys()].filter((u) => before.has(u) && before.get(u) !== members.get(u));
    const changed = joined.length > 0 || left.length > 0 || !samePeers(ring, this.#ring);
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

  /**
   * setOut takes a listed peer out of the ring this node routes by (seen down, or announced
   * leaving, with the boot id of the process that leaves), or puts it back (reason undefined). The
   * change is a ring change like any other: counted, told to onView, and covered by the handoff.
   */
  setOut(peer: string, reason: OutReason | undefined, boot?: string): void {
    if (!this.#members.has(peer) || !this.#view.set(peer, reason, boot)) return;
    const before = this.#ring;
    this.#apply(true);
    if (!samePeers(before, this.#ring)) this.#options.onView?.({ peer, out: reason, peers: this.#ring.peers() });
  }

  /** out returns why each listed peer is out of the ring, for those that are. */
  out(): Map<string, OutReason> {
    return this.#view.out();
  }

  /** leave takes this node out of its own ring: every key goes to the others from now on (a graceful leave). */
  leave(): void {
    if (this.#view.leaving) return;
    this.#view.leaving = true;
    this.#apply(true);
  }

  /**
   * announce tells every peer that speaks the extension (probed first when not yet known) that this
   * node leaves the ring or joins it (again), with its boot id; it resolves with the peers told.
   */
  announce(state: MemberState, boot: string): Promise<string[]> {
    return this.#self === undefined ? Promise.resolve([]) : announce(this.#members, this.#self, state, boot);
  }

  /**
   * heard takes a peer's announcement: a peer leaving goes out of the ring at once (not after
   * failed requests); a peer joining is back in it, up. False when peer is not a member.
   */
  heard(peer: string, state: MemberState, boot: string): boolean {
    const url = URL.canParse(peer) ? peerUrl(peer) : peer;
    const m = this.#members.get(url);
    if (!m) return false;
    if (state === "leaving") this.setOut(url, "leaving", boot);
    else {
      m.revive?.();
      this.setOut(url, undefined);
    }
    return true;
  }

  /** leaving tells whether this node is leaving (see leave). */
  get leaving(): boolean {
    return this.#view.leaving;
  }

  #ringWithout(urls: string[]): Ring {
    const ring = new Ring(this.#ringOptions);
    ring.set(urls.filter((u) => u !== this.#self));
    return ring;
  }

  /** listed lists every node of the cluster, self included, whether or not the ring holds it now (see out). */
  listed(): string[] {
    return [...(this.#self === undefined ? [] : [this.#self]), ...this.#members.keys()];
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

  /** pickPeer returns the client of key's owner; undefined when this node owns it (or no transport carries key). */
  pickPeer(key: string): TransportClient | undefined {
    const owner = this.#ring.get(key);
    if (owner === undefined || owner === this.#self) return undefined;
    const client = this.#members.get(owner)?.client;
    return client?.unroutable?.(key) ? undefined : client;
  }

  /**
   * previousOwners returns the clients of the nodes that owned key on the rings before recent
   * changes, newest first, while the handoff window lasts (never this node or key's owner now).
   */
  previousOwners(key: string): TransportClient[] {
    const owners = this.#handoff.previousOwners(key, this.#self, this.#ring);
    return owners.filter((c) => this.#view.reason(c.url) !== "down"); // a down peer has nothing to give
  }

  /** peekPrevious asks key's previous owners, newest first, for their cached copy only (see PeerPicker). */
  peekPrevious(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined> {
    const owners = this.previousOwners(key);
    return owners.length === 0 ? Promise.resolve(undefined) : this.#handoff.peek(owners, group, key, signal);
  }

  /** copies is on how many nodes a written value lives (1 = its owner only). */
  get copies(): number {
    return this.#options.copies ?? DEFAULT_COPIES;
  }

  /** copyHolders returns where the copies of a written value of key live besides its owner ("self" for this node). */
  copyHolders(key: string): Array<TransportClient | "self"> {
    return copyHolders(this.#ring, this.#members, this.#self, key, this.copies);
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
    const h = this.#options.health ?? {};
    // Only the current client of a peer speaks for it: a replaced one's late answers change nothing.
    const current = (peer: string) => this.#members.get(peer)?.client === guarded;
    const guarded = withHealth(client, {
      ...h,
      onDown: (peer, state) => {
        if (current(peer)) this.setOut(peer, "down");
        h.onDown?.(peer, state);
      },
      onUp: (peer, downFor, failures) => {
        if (current(peer) && this.#view.reason(peer) === "down") this.setOut(peer, undefined);
        h.onUp?.(peer, downFor, failures);
      },
      onBoot: (peer, boot) => {
        // A peer that announced it was leaving and answers with another boot id restarted: it is back.
        if (current(peer) && this.#view.restarted(peer, boot)) this.setOut(peer, undefined);
        h.onBoot?.(peer, boot);
      },
    });
    return { address, client: guarded, health: guarded.health, revive: guarded.revive };
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
    return speakerOf(this.transports, url);
  }
}
