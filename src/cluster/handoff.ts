import type { Ring } from "../core/consistent-hash.ts";
import type { PeerResponse } from "../core/protocol.ts";
import { closeQuietly } from "./_close-quietly.ts";
import type { TransportClient } from "./transport.ts";

/**
 * DEFAULT_HANDOFF_WINDOW: a key's new owner peeks its previous owners until the view has been
 * unchanged for 60 s. Traffic for a moved key arrives for minutes, not for a poll interval or two.
 */
export const DEFAULT_HANDOFF_WINDOW = 60_000;

/** HANDOFF_HISTORY is how many rings before recent changes are kept (a rolling restart makes several in a row). */
export const HANDOFF_HISTORY = 4;

/** HandoffStats count the peeks a new owner made at a key's previous owners before loading. */
export interface HandoffStats {
  peeks: number;
  peekHits: number;
  peekErrors: number;
}

/** Holder is what Handoff keeps of a node: its client. */
interface Holder {
  client: TransportClient;
}

interface Remembered {
  ring: Ring;
  members: ReadonlyMap<string, Holder>;
}

/**
 * Handoff remembers the rings before the last few changes of the view, with the clients of their
 * nodes, until the view has been unchanged for `window` ms: a key's new owner peeks the nodes that
 * owned it on those rings (newest first) before loading, so a changing ring does not stampede the
 * loader. Only peers that have shown they speak the extension are peeked (a Go peer would forward
 * a peek back as a plain get). When the window ends, the clients of nodes no longer members close.
 */
export class Handoff {
  /** stats count the peeks made through peek. */
  readonly stats: HandoffStats = { peeks: 0, peekHits: 0, peekErrors: 0 };
  #history: Remembered[] = []; // newest first
  #until = 0;
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
   * remember keeps ring, the ring before a change, and restarts the window: it ends once the view
   * has been stable that long. A node joining a cluster had no ring before (before is empty); its
   * caller passes a ring of the others alone, whose clients are in now.
   */
  remember(before: ReadonlyMap<string, Holder>, now: ReadonlyMap<string, Holder>, ring: Ring): void {
    const members = new Map<string, Holder>(before.size === 0 ? now : before);
    const history = [{ ring, members }, ...this.#history];
    for (const old of history.splice(HANDOFF_HISTORY)) this.#closeUnused(old, history, now);
    this.#history = history;
    this.#until = this.#now() + this.#window;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(() => this.#forget(), this.#window);
    this.#closeTimer.unref?.();
  }

  /**
   * previousOwners returns the clients of the nodes that owned key on the remembered rings, newest
   * first, while the window lasts: never self, never key's owner on ring (the ring now), and only
   * peers that can peek key and have not shown they lack the extension (peek probes the unknown).
   */
  previousOwners(key: string, self: string | undefined, ring: Ring): TransportClient[] {
    if (this.#history.length === 0 || this.#now() >= this.#until) return [];
    const owner = ring.get(key);
    const out: TransportClient[] = [];
    const seen = new Set<string>();
    for (const prev of this.#history) {
      const was = prev.ring.get(key);
      if (was === undefined || was === self || was === owner || seen.has(was)) continue;
      seen.add(was);
      const client = prev.members.get(was)?.client;
      if (client?.peek && client.extended !== false && !client.unroutable?.(key)) out.push(client);
    }
    return out;
  }

  /**
   * peek asks each client (previousOwners) for its cached copy of key, in order, until one has it;
   * failures count and are passed over.
   */
  async peek(
    clients: readonly TransportClient[],
    group: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<PeerResponse | undefined> {
    for (const client of clients) {
      // A peer not yet heard from is probed first: a Go peer would take a peek for a plain get and forward it back.
      if (client.extended === undefined) await client.probe?.(signal).catch(() => undefined);
      if (client.extended !== true) continue;
      this.stats.peeks++;
      try {
        const res = await client.peek!(group, key, signal);
        if (res) {
          this.stats.peekHits++;
          return res;
        }
      } catch {
        this.stats.peekErrors++;
      }
    }
    return undefined;
  }

  /** clear forgets the remembered rings at once and returns their clients, for the caller to close. */
  clear(): TransportClient[] {
    clearTimeout(this.#closeTimer);
    const clients = this.#history.flatMap((h) => [...h.members.values()].map((m) => m.client));
    this.#history = [];
    return clients;
  }

  #closeUnused(old: Remembered, kept: readonly Remembered[], now: ReadonlyMap<string, Holder>): void {
    for (const [url, m] of old.members)
      if (now.get(url) !== m && !kept.some((k) => k.members.get(url) === m)) void closeQuietly(m.client);
  }

  #forget(): void {
    const history = this.#history;
    this.#history = [];
    const current = this.#current();
    for (const old of history) this.#closeUnused(old, [], current);
  }
}
