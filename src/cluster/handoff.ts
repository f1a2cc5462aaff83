import type { Ring } from "../core/consistent-hash.ts";
import type { PeerResponse } from "../core/protocol.ts";
import { closeQuietly } from "./_close-quietly.ts";
import type { TransportClient } from "./transport.ts";

/**
 * handoffWindow is how long the ring before a change is remembered for handoff peeks: two discovery
 * polls (a change must be seen twice) and a peer timeout, so the previous owner may still be peeked.
 */
export function handoffWindow(pollInterval: number, peerTimeout: number): number {
  return 2 * pollInterval + peerTimeout;
}

/** HandoffStats count the peeks a new owner made at a key's previous owner before loading. */
export interface HandoffStats {
  peeks: number;
  peekHits: number;
  peekErrors: number;
}

/** Holder is what Handoff keeps of a node: its client. */
interface Holder {
  client: TransportClient;
}

/**
 * Handoff remembers the ring before the last change of membership, with the clients of its nodes,
 * for window ms: a key's new owner peeks the previous owner's cached copy before loading (so a
 * changing ring does not stampede the loader). When the window ends, the clients of nodes that are
 * no longer members are closed.
 */
export class Handoff {
  /** stats count the peeks made through peek. */
  readonly stats: HandoffStats = { peeks: 0, peekHits: 0, peekErrors: 0 };
  #previous: { ring: Ring; until: number; members: Map<string, Holder> } | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #window: number;
  readonly #now: () => number;
  readonly #current: () => ReadonlyMap<string, Holder>; // the members now, read when the window ends

  constructor(window: number, now: () => number, current: () => ReadonlyMap<string, Holder>) {
    this.#window = window;
    this.#now = now;
    this.#current = current;
  }

  /**
   * remember keeps ring, the ring before a change, for handoff peeks. A node joining a cluster had no
   * ring before (before is empty); its caller passes a ring of the others alone, whose clients are in now.
   */
  remember(before: ReadonlyMap<string, Holder>, now: ReadonlyMap<string, Holder>, ring: Ring): void {
    const keep = new Map<string, Holder>(before.size === 0 ? now : before);
    for (const [url, m] of this.#previous?.members ?? [])
      if (!keep.has(url) && !now.has(url)) void closeQuietly(m.client);
    this.#previous = { ring, until: this.#now() + this.#window, members: keep };
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => this.#forget(), this.#window);
    this.#closeTimer.unref?.();
  }

  /**
   * previousOwner returns the client of the node that owned key on the remembered ring, while the window lasts;
   * undefined if that was self, is key's owner on ring (the ring now) too, or cannot peek key.
   */
  previousOwner(key: string, self: string | undefined, ring: Ring): TransportClient | undefined {
    const prev = this.#previous;
    if (!prev || this.#now() >= prev.until) return undefined;
    const was = prev.ring.get(key);
    if (was === undefined || was === self || was === ring.get(key)) return undefined;
    const client = prev.members.get(was)?.client;
    return client?.peek && !client.unroutable?.(key) ? client : undefined;
  }

  /** peek asks client (a previousOwner, or undefined) for its cached copy of key only; failures count and resolve undefined. */
  async peek(
    client: TransportClient | undefined,
    group: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<PeerResponse | undefined> {
    if (!client) return undefined;
    this.stats.peeks++;
    try {
      const res = await client.peek!(group, key, signal);
      if (res) this.stats.peekHits++;
      return res;
    } catch {
      this.stats.peekErrors++;
      return undefined;
    }
  }

  /** clear forgets the remembered ring at once and returns its clients, for the caller to close. */
  clear(): TransportClient[] {
    clearTimeout(this.#closeTimer);
    const clients = [...(this.#previous?.members.values() ?? [])].map((m) => m.client);
    this.#previous = undefined;
    return clients;
  }

  #forget(): void {
    const prev = this.#previous;
    this.#previous = undefined;
    const current = this.#current();
    for (const [url, m] of prev?.members ?? []) if (current.get(url) !== m) void closeQuietly(m.client);
  }
}
