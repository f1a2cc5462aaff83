import type { ByteCache } from "../core/byte-cache.ts";
import type { ByteView } from "../core/byteview.ts";
import { LRU } from "../core/lru.ts";
import { TinyLFU } from "../core/tinylfu.ts";

/** CacheStats describe one of a group's caches. */
export interface CacheStats {
  bytes: number;
  items: number;
  gets: number;
  hits: number;
  evictions: number;
}

/** Entry is what the caches hold: a value and its expiry in Unix ms (0 = never). */
export class Entry {
  constructor(
    readonly value: ByteView,
    readonly expiresAt: number,
    /** until is when a copy of another node's key stops being served here (Unix ms; 0 = no bound): the hot TTL. */
    readonly until = 0,
    /** written is when the value was written (Unix ms at the writing node); 0 for a value loaded from the source. */
    readonly written = 0,
  ) {}
  /** length is the value's size in bytes, which the LRU charges. */
  get length(): number {
    return this.value.length;
  }
}

/**
 * Cache is one policy (LRU or W-TinyLFU) of entries with its counters; the group counts gets and hits, the shared
 * budget evictions.
 */
export class Cache {
  gets = 0;
  hits = 0;
  evictions = 0;
  sweepCursor = 0; // the slot where the next sweep starts

  constructor(readonly lru: ByteCache<Entry> = new LRU<Entry>()) {}

  /** stats returns the cache's figures; evictions include those the policy made itself (W-TinyLFU admission). */
  stats(): CacheStats {
    const evictions = this.evictions + (this.lru.evictions ?? 0);
    return { bytes: this.lru.bytes, items: this.lru.length, gets: this.gets, hits: this.hits, evictions };
  }
}

/** Caches are a group's main and hot caches, which share one byte budget. */
export class Caches {
  readonly main: Cache; // values this node owns
  readonly hot = new Cache(); // popular values owned by other peers
  // copies of values written to other nodes (--copies): never served by a get, only peeked
  readonly copies = new Cache();

  constructor(
    readonly budget: number,
    admission: "tinylfu" | "lru" = "lru", // options.ts's Admission, spelled out so caches.ts stays a leaf of group/
    /** onMainEvicted hears of each key leaving the main cache but by a replacing add (Group.onChange). */
    onMainEvicted?: (key: string) => void,
  ) {
    const onEvicted = onMainEvicted && ((key: string) => onMainEvicted(key));
    // W-TinyLFU keeps the main cache within the whole budget by admission; the loop in populate
    // then trims it further (oldest probation first) while the hot cache holds its share.
    this.main = new Cache(
      admission === "tinylfu" && budget > 0
        ? new TinyLFU<Entry>({ maxBytes: budget, onEvicted })
        : new LRU<Entry>({ onEvicted }),
    );
  }

  /** populate adds entry under key to cache (main or hot), then evicts until both caches fit the budget together. */
  populate(cache: Cache, key: string, entry: Entry): void {
    if (entry.length + Buffer.byteLength(key) > this.budget) {
      cache.lru.remove(key); // too big to keep at all; never leave an older value behind
      return;
    }
    cache.lru.add(key, entry);
    // Evict until all three fit; the hot cache may hold at most an eighth of the main cache's bytes,
    // and the copies of others' written values no more than the main cache.
    const main = this.main;
    const hot = this.hot;
    const copies = this.copies;
    while (main.lru.bytes + hot.lru.bytes + copies.lru.bytes > this.budget) {
      const victim = hot.lru.bytes > main.lru.bytes / 8 ? hot : copies.lru.bytes > main.lru.bytes ? copies : main;
      if (!victim.lru.removeOldest()) break;
      victim.evictions++;
    }
  }

  /** peek returns key's live entry (main first, then hot) and where it is, without touching the counters. */
  peek(
    key: string,
    now: number,
    withCopies = true,
  ): { value: ByteView; expiresAt: number; from: "main" | "hot"; written?: number } | undefined {
    for (const [cache, from] of [
      [this.main, "main"],
      [this.hot, "hot"],
      ...(withCopies ? [[this.copies, "hot"] as const] : []),
    ] as const) {
      const e = cache.lru.get(key);
      if (e !== undefined && (e.expiresAt === 0 || now < e.expiresAt) && (e.until === 0 || now < e.until))
        return e.written
          ? { value: e.value, expiresAt: e.expiresAt, from, written: e.written }
          : { value: e.value, expiresAt: e.expiresAt, from };
    }
    return undefined;
  }

  /**
   * keepHot stores a copy of another node's key in the hot cache for at most ttl ms from now (never past its own
   * expiry); ttl 0 keeps nothing.
   */
  keepHot(key: string, entry: Entry, ttl: number, now: number): void {
    if (ttl > 0) this.populate(this.hot, key, new Entry(entry.value, entry.expiresAt, now + ttl));
  }

  /** copyOf returns this node's live copy of another node's written value of key (--copies), or undefined. */
  copyOf(key: string, now: number): { value: Uint8Array; expiresAt: number } | undefined {
    const e = this.copies.lru.get(key);
    return e && (e.expiresAt === 0 || now < e.expiresAt)
      ? { value: e.value.bytes(), expiresAt: e.expiresAt }
      : undefined;
  }

  /** dropHot removes the hot entries whose key matches; it returns how many. */
  dropHot(matches: (key: string) => boolean): number {
    const lru = this.hot.lru;
    const before = lru.length;
    lru.sweep(0, Number.MAX_SAFE_INTEGER, (key) => matches(key));
    return before - lru.length;
  }

  /** remove drops key from every cache; true if any held it. */
  remove(key: string): boolean {
    const a = this.main.lru.remove(key);
    const b = this.hot.lru.remove(key);
    const c = this.copies.lru.remove(key);
    return a || b || c;
  }

  /**
   * sweep frees entries expired at now, looking at no more than `budget` slots of each cache and
   * going on next time where it stopped; main entries are kept `stale` ms longer. It returns the
   * number of entries freed.
   */
  sweep(now: number, budget: number, stale: number): number {
    let freed = 0;
    // Only owned values may be served stale; a hot copy is dead at its expiry.
    const dead = (keepFor: number) => (_key: string, e: Entry) => {
      const gone = (e.expiresAt !== 0 && now >= e.expiresAt + keepFor) || (e.until !== 0 && now >= e.until);
      if (gone) freed++;
      return gone;
    };
    this.main.sweepCursor = this.main.lru.sweep(this.main.sweepCursor, budget, dead(stale));
    this.hot.sweepCursor = this.hot.lru.sweep(this.hot.sweepCursor, budget, dead(0));
    this.copies.sweepCursor = this.copies.lru.sweep(this.copies.sweepCursor, budget, dead(0));
    return freed;
  }
}
