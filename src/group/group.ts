import type { ByteView } from "../core/byteview.ts";
import type { GeeCacheError } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";
import { SingleFlight } from "../core/singleflight.ts";
import { withSignal } from "./abort.ts";
import { getMany } from "./batch.ts";
import { type Cache, type CacheStats, Caches } from "./caches.ts";
import { keyError } from "./keys.ts";
import { MissPath } from "./miss-path.ts";
import { type GroupOptions, groupSettings } from "./options.ts";
import type { PeerPicker } from "./peers.ts";
import { Popularity } from "./popularity.ts";
import { purgeEverywhere } from "./replicas.ts";
import { type GetResult, type GroupStats, noStats, type WriteResult } from "./results.ts";
import { WriteMarks } from "./write-marks.ts";
import { type WriteOptions, Writes } from "./writes.ts";

/**
 * Group is a named cache with a loader. A get looks in the main cache, then the hot cache, then
 * asks the key's owner among the peers, and loads locally when this node owns the key or the
 * owner failed. Loads of one key are deduplicated; "not found" is never cached.
 */
export class Group {
  readonly name: string;
  readonly cacheBytes: number;
  readonly ttl: number;
  readonly stale: number;
  readonly #peers: PeerPicker | undefined;
  readonly #popularity: Popularity; // request rates of the keys this node owns
  readonly #now: () => number;
  readonly #caches: Caches; // main and hot, under cacheBytes
  readonly #flight = new SingleFlight<GetResult>(); // gets: peer fetch or local load
  readonly #marks = new WriteMarks(); // lets a set, remove or purge win over loads in flight
  readonly #local = new SingleFlight<GetResult>(); // loader calls; never waits on a peer
  readonly #writes: Writes; // sets and removes, cluster-wide and local
  readonly #miss: MissPath; // what a get does when the caches miss
  /** onChange hears of each write, remove or eviction of a key here, or a purge (undefined): --workers drop copies. */
  onChange: ((key: string | undefined) => void) | undefined;
  readonly #stats: GroupStats = noStats();

  constructor(options: GroupOptions) {
    const settings = groupSettings(options);
    this.name = settings.name;
    this.cacheBytes = settings.cacheBytes;
    const budget = Math.max(0, settings.cacheBytes - settings.reservedBytes);
    this.#caches = new Caches(budget, settings.admission, (key) => this.onChange?.(key));
    this.ttl = settings.ttl;
    this.stale = settings.stale;
    this.#peers = settings.peers;
    this.#now = settings.now;
    this.#popularity = new Popularity(settings.now);
    const caches = this.#caches;
    const stats = this.#stats;
    const marks = this.#marks;
    const expiry = (ttl: number | undefined, expiresAt: number | undefined) => this.#expiry(ttl, expiresAt);
    const now = () => this.#now();
    const changed = (key: string | undefined) => this.onChange?.(key);
    this.#writes = new Writes(settings, {
      caches,
      stats,
      marks,
      flight: this.#flight,
      local: this.#local,
      expiry,
      now,
      changed,
    });
    this.#miss = new MissPath(settings, {
      caches,
      stats,
      popularity: this.#popularity,
      local: this.#local,
      marks,
      lookup: (key) => this.lookup(key),
      lookupMain: (key) => this.#lookupIn(caches.main, key, "main"),
      expiry,
      generation: () => this.generation,
      purge: (generation) => this.purgeLocal(generation),
    });
  }

  /** get returns the value of key, loading it on a miss; see `getEntry`. */
  async get(key: string, options?: { signal?: AbortSignal }): Promise<ByteView> {
    return (await this.getEntry(key, options)).value;
  }

  /**
   * getEntry returns the value of key with its expiry and origin. It rejects with a GeeCacheError: INVALID_ARGUMENT,
   * NOT_FOUND, LOAD_FAILED or ABORTED.
   */
  getEntry(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    const bad = keyError(this.name, key);
    if (bad) return Promise.reject(bad);
    this.#stats.gets++;
    const hit = this.lookup(key);
    if (hit) {
      this.#stats.cacheHits++;
      // a key this node owns; alone, nobody asks its rate
      if (hit.from === "main" && this.#peers) this.#popularity.record(key);
      return Promise.resolve(hit);
    }
    this.#stats.loads++;
    return withSignal(() => this.#flight.do(key, () => this.#miss.load(key)), options?.signal);
  }

  /**
   * getMany gets many keys at once: one entry per distinct key, in order, each a GetResult or the
   * key's GeeCacheError. Misses owned by one peer go to it in one request (when its client has
   * getMany); see batch.ts. It rejects only with ABORTED.
   */
  getMany(keys: Iterable<string>, options?: { signal?: AbortSignal }): Promise<Map<string, GetResult | GeeCacheError>> {
    const parts = {
      name: this.name,
      stats: this.#stats,
      flight: this.#flight,
      peers: this.#peers,
      lookup: (k: string) => this.lookup(k),
      load: (k: string) => this.#miss.load(k),
      viaPeer: (k: string, ask: () => Promise<PeerResponse>) => this.#miss.viaPeer(k, ask),
    };
    return getMany(parts, keys, options?.signal);
  }

  /**
   * getLocal answers a peer: the value from the main cache or the loader, never from another peer, with the key's
   * measured rate (minuteQps).
   */
  getLocal(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    const bad = keyError(this.name, key);
    if (bad) return Promise.reject(bad);
    // Counted as gets too, as groupcache does, so that cacheHits / gets stays a hit ratio.
    this.#stats.serverRequests++;
    this.#stats.gets++;
    const minuteQps = this.#popularity.recordRate(key);
    const hit = this.#lookupIn(this.#caches.main, key, "main");
    if (hit) {
      this.#stats.cacheHits++;
      hit.minuteQps = minuteQps;
      return Promise.resolve(hit);
    }
    this.#stats.loads++;
    return withSignal(() => this.#miss.loadLocally(key), options?.signal).then((r) => ({ ...r, minuteQps }));
  }

  /** ownKeys returns the keys of the main cache (the values this node owns), most valuable first. */
  ownKeys(): string[] {
    return [...this.#caches.main.lru.keys()];
  }

  /** admission carries the main cache's W-TinyLFU counts across a restart (a snapshot); undefined under LRU. */
  get admission(): { save(): Uint8Array; load(bytes: Uint8Array): boolean } | undefined {
    const lru = this.#caches.main.lru;
    return lru.saveSketch && lru.loadSketch
      ? { save: () => lru.saveSketch!(), load: (b) => lru.loadSketch!(b) }
      : undefined;
  }

  /**
   * peek returns key's cached value (main or hot) without loading and without counting a get: what a new owner asks a
   * previous one during handoff.
   */
  peek(key: string): GetResult | undefined {
    return keyError(this.name, key) ? undefined : this.#caches.peek(key, this.#now());
  }

  /** lookup returns the cached value of key from the main or hot cache, without loading. */
  lookup(key: string): GetResult | undefined {
    return this.#lookupIn(this.#caches.main, key, "main") ?? this.#lookupIn(this.#caches.hot, key, "hot");
  }

  /**
   * set stores value for key in the cluster: in the owner's main cache (this node's, or a peer's),
   * and drops stale hot copies on every other peer. It resolves with the peers that could not be
   * reached; a set always wins over a load of key that is in flight.
   */
  set(key: string, value: Uint8Array | string | ByteView, options?: WriteOptions): Promise<WriteResult> {
    return this.#writes.set(key, value, options);
  }

  /** remove drops key from every node's caches; it resolves with the peers that could not be reached. */
  remove(key: string): Promise<WriteResult> {
    return this.#writes.remove(key);
  }

  /**
   * setCopy keeps value as a copy of another node's written value (--copies): never served by a
   * get here, which asks the owner, but peeked when the owner is down or has restarted.
   */
  setCopy(key: string, value: Uint8Array | string | ByteView, options?: WriteOptions): void {
    this.#writes.setCopy(key, value, options);
  }

  /**
   * setLocal stores value in this node's main cache only (a peer's PUT lands here); it wins over a load of key in
   * flight.
   */
  setLocal(key: string, value: Uint8Array | string | ByteView, options?: WriteOptions): GetResult {
    return this.#writes.setLocal(key, value, options);
  }

  /** generation is the group's purge number: each purge, here or heard from a peer, takes the next one. */
  get generation(): number {
    return this.#writes.generation;
  }

  /**
   * purgeLocal drops every entry of the group on this node (main, hot and copies) and makes the
   * loads in flight keep nothing they fetched, unless this node has purged at generation or later
   * already; it returns the entries dropped.
   */
  purgeLocal(generation = this.generation + 1): number {
    return this.#writes.purge(generation);
  }

  /**
   * purge drops every entry of the group on every node: here, then on every peer, at the next
   * purge number. It resolves with the peers that could not be told: each purges when it next
   * answers this node with an older number.
   */
  async purge(): Promise<WriteResult> {
    const generation = this.generation + 1;
    this.purgeLocal(generation);
    return { failed: await purgeEverywhere(this.name, this.#peers, generation) };
  }

  /**
   * restore puts a saved entry back in the main cache (a snapshot): expiresAt Unix ms (0 = never),
   * written when it was written (0: loaded from the source).
   */
  restore(key: string, value: ByteView, expiresAt: number, written: number): void {
    this.#writes.setLocal(key, value, expiresAt > 0 ? { expiresAt, written } : { ttl: 0, written });
  }

  /**
   * removeLocal drops key from this node's caches only (and wins over a load of key in flight); true if it was cached.
   */
  removeLocal(key: string): boolean {
    return this.#writes.removeLocal(key);
  }

  /** countHits adds n gets served from copies this node's other workers keep (--workers) to the counters. */
  countHits(n: number): void {
    this.#stats.gets += n;
    this.#stats.cacheHits += n;
  }

  /** stats returns a copy of the group's counters. */
  stats(): GroupStats {
    return { ...this.#stats };
  }

  /** cacheStats returns the main and hot caches' figures. */
  cacheStats(): { main: CacheStats; hot: CacheStats } {
    return { main: this.#caches.main.stats(), hot: this.#caches.hot.stats() };
  }

  /**
   * sweep frees expired entries that nobody touches: it looks at no more than `budget` slots of
   * each cache, going on next time where it stopped, so a call is always small. It returns the
   * number of entries freed.
   */
  sweep(budget = 1000): number {
    return this.#caches.sweep(this.#now(), budget, this.stale);
  }

  /** dropHot removes the hot copies whose key matches (those taken from a peer that restarted); it returns how many. */
  dropHot(matches: (key: string) => boolean): number {
    return this.#caches.dropHot(matches);
  }

  #expiry(ttl: number | undefined, expiresAt: number | undefined): number {
    if (expiresAt !== undefined && expiresAt > 0) return expiresAt;
    const t = ttl ?? this.ttl;
    return t > 0 ? this.#now() + t : 0;
  }

  #lookupIn(cache: Cache, key: string, from: "main" | "hot"): GetResult | undefined {
    cache.gets++;
    const e = cache.lru.get(key);
    if (e === undefined) return undefined;
    if (e.until !== 0 && this.#now() >= e.until) {
      cache.lru.remove(key); // a copy of another node's key past the hot TTL
      return undefined;
    }
    if (e.expiresAt !== 0) {
      const now = this.#now();
      if (now >= e.expiresAt) {
        // Past its expiry a value we own may still be served for `stale` ms while one load refreshes it.
        if (cache !== this.#caches.main || now >= e.expiresAt + this.stale) {
          cache.lru.remove(key);
          return undefined;
        }
        if (!this.#local.inFlight(key)) this.#miss.loadLocally(key, true).catch(() => {}); // counted in localLoadErrs
      }
    }
    cache.hits++;
    return { value: e.value, expiresAt: e.expiresAt, from };
  }
}
