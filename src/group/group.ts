import { withSignal } from "./abort.ts";
import { ByteView } from "../core/byteview.ts";
import { errorMessage, GeeCacheError, isNotFound } from "../core/errors.ts";
import { type Cache, Caches, type CacheStats, Entry } from "./caches.ts";
import { type GroupOptions, groupSettings } from "./options.ts";
import { checkKey, keyError } from "./keys.ts";
import { entryOf, type Getter } from "./loader.ts";
import type { PeerClient, PeerPicker } from "./peers.ts";
import type { PeerResponse } from "../core/protocol.ts";
import { getMany } from "./batch.ts";
import { SingleFlight } from "../core/singleflight.ts";
import { WriteMarks } from "./write-marks.ts";


/** GroupStats are a group's counters since it was made. */
export interface GroupStats {
  gets: number; // every get, from the API or a peer
  cacheHits: number; // served from the main or hot cache
  peerLoads: number; // fetched from a peer
  peerErrors: number; // a peer failed and we loaded locally instead
  loads: number; // gets that missed the cache
  loadsDeduped: number; // loads left after singleflight
  localLoads: number; // successful loader calls
  localLoadErrs: number; // failed loader calls (not found included)
  serverRequests: number; // gets that came from peers (counted in gets too)
}

/** GetResult is a value with where it came from. */
export interface GetResult {
  value: ByteView;
  /** expiresAt is the Unix ms after which the value is no longer served; 0 = never. */
  expiresAt: number;
  from: "main" | "hot" | "peer" | "loader";
}

/** PeerFailure names a peer that a write could not reach, and why. */
export interface PeerFailure {
  peer: string;
  error: string;
}

/** WriteResult tells which peers a cluster-wide set or remove could not reach (empty when all were). */
export interface WriteResult {
  failed: PeerFailure[];
}

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
  readonly #getter: Getter;
  readonly #peers: PeerPicker | undefined;
  readonly #hotRatio: number;
  readonly #hotTtl: number; // 0 = hot copies and fallback loads are not kept
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #caches: Caches; // main and hot, under cacheBytes
  readonly #flight = new SingleFlight<GetResult>(); // gets: peer fetch or local load
  readonly #local = new SingleFlight<GetResult>(); // loader calls; never waits on a peer
  readonly #marks = new WriteMarks(); // lets a set or remove win over loads in flight
  readonly #stats: GroupStats = { gets: 0, cacheHits: 0, peerLoads: 0, peerErrors: 0, loads: 0, loadsDeduped: 0, localLoads: 0, localLoadErrs: 0, serverRequests: 0 };

  constructor(options: GroupOptions) {
    const settings = groupSettings(options);
    this.name = settings.name;
    this.#getter = settings.getter;
    this.cacheBytes = settings.cacheBytes;
    this.#caches = new Caches(settings.cacheBytes);
    this.ttl = settings.ttl;
    this.stale = settings.stale;
    this.#hotRatio = settings.hotCacheRatio;
    this.#hotTtl = settings.hotTtl;
    this.#peers = settings.peers;
    this.#random = settings.random;
    this.#now = settings.now;
  }

  /** get returns the value of key, loading it on a miss; see `getEntry`. */
  async get(key: string, options?: { signal?: AbortSignal }): Promise<ByteView> {
    return (await this.getEntry(key, options)).value;
  }

  /** getEntry returns the value of key with its expiry and origin. It rejects with a GeeCacheError: INVALID_ARGUMENT, NOT_FOUND, LOAD_FAILED or ABORTED. */
  getEntry(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    const bad = keyError(this.name, key);
    if (bad) return Promise.reject(bad);
    this.#stats.gets++;
    const hit = this.lookup(key);
    if (hit) {
      this.#stats.cacheHits++;
      return Promise.resolve(hit);
    }
    this.#stats.loads++;
    return withSignal(() => this.#flight.do(key, () => this.#load(key)), options?.signal);
  }

  /**
   * getMany gets many keys at once: one entry per distinct key, in order, each a GetResult or the
   * key's GeeCacheError. Misses owned by one peer go to it in one request (when its client has
   * getMany); see batch.ts. It rejects only with ABORTED.
   */
  getMany(keys: Iterable<string>, options?: { signal?: AbortSignal }): Promise<Map<string, GetResult | GeeCacheError>> {
    const parts = { name: this.name, stats: this.#stats, flight: this.#flight, peers: this.#peers, lookup: (k: string) => this.lookup(k), load: (k: string) => this.#load(k), viaPeer: (k: string, ask: () => Promise<PeerResponse>) => this.#viaPeer(k, ask) };
    return getMany(parts, keys, options?.signal);
  }

  /** getLocal answers a peer: the value from the main cache or the loader, never from another peer. */
  getLocal(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    const bad = keyError(this.name, key);
    if (bad) return Promise.reject(bad);
    // Counted as gets too, as groupcache does, so that cacheHits / gets stays a hit ratio.
    this.#stats.serverRequests++;
    this.#stats.gets++;
    const hit = this.#lookupIn(this.#caches.main, key, "main");
    if (hit) {
      this.#stats.cacheHits++;
      return Promise.resolve(hit);
    }
    this.#stats.loads++;
    return withSignal(() => this.#loadLocally(key), options?.signal);
  }

  /** peek returns key's cached value (main or hot) without loading and without counting a get: what a new owner asks a previous one during handoff. */
  peek(key: string): GetResult | undefined {
    if (keyError(this.name, key)) return undefined;
    const now = this.#now();
    for (const [cache, from] of [[this.#caches.main, "main"], [this.#caches.hot, "hot"]] as const) {
      const e = cache.lru.get(key);
      if (e !== undefined && (e.expiresAt === 0 || now < e.expiresAt) && (e.until === 0 || now < e.until)) return { value: e.value, expiresAt: e.expiresAt, from };
    }
    return undefined;
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
  async set(key: string, value: Uint8Array | string | ByteView, options: { ttl?: number; expiresAt?: number } = {}): Promise<WriteResult> {
    checkKey(this.name, key);
    const view = ByteView.from(value);
    const expiresAt = this.#expiry(options.ttl, options.expiresAt);
    const owner = this.#peers?.pickPeer(key);
    const holders = this.#peers?.copyHolders?.(key) ?? [];
    const failed: PeerFailure[] = [];
    const written = new Set<string>();
    const put = async (peer: PeerClient): Promise<void> => {
      written.add(peer.url);
      if (!peer.set) throw new GeeCacheError("INVALID_ARGUMENT", `group ${this.name}: the transport of peer ${peer.url} cannot set values`);
      await peer.set(this.name, key, view, expiresAt).catch((err) => failed.push(this.#peerFailure(peer.url, err)));
    };
    const here = !owner || holders.includes("self");
    if (here) this.setLocal(key, view, expiresAt > 0 ? { expiresAt } : { ttl: 0 }); // 0 is already resolved: never
    else this.removeLocal(key); // our hot copy, if any, is now stale
    // The owner and the copy holders get the value; every other node drops its hot copy.
    await Promise.all([owner && put(owner), ...holders.map((h) => (h === "self" ? undefined : put(h)))]);
    await this.#broadcastRemove(key, written, failed);
    return { failed };
  }

  /** remove drops key from every node's caches; it resolves with the peers that could not be reached. */
  async remove(key: string): Promise<WriteResult> {
    checkKey(this.name, key);
    this.removeLocal(key);
    const failed: PeerFailure[] = [];
    await this.#broadcastRemove(key, new Set(), failed);
    return { failed };
  }

  /** setLocal stores value in this node's main cache only (a peer's PUT lands here); it wins over a load of key in flight. */
  setLocal(key: string, value: Uint8Array | string | ByteView, options: { ttl?: number; expiresAt?: number } = {}): GetResult {
    checkKey(this.name, key);
    this.#invalidate(key);
    this.#caches.hot.lru.remove(key);
    const entry = new Entry(ByteView.from(value), this.#expiry(options.ttl, options.expiresAt));
    this.#caches.populate(this.#caches.main, key, entry);
    return { value: entry.value, expiresAt: entry.expiresAt, from: "main" };
  }

  /** removeLocal drops key from this node's caches only (and wins over a load of key in flight); true if it was cached. */
  removeLocal(key: string): boolean {
    checkKey(this.name, key);
    this.#invalidate(key);
    return this.#caches.remove(key);
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

  async #broadcastRemove(key: string, skip: ReadonlySet<string>, failed: PeerFailure[]): Promise<void> {
    const peers = this.#peers?.remotePeers?.() ?? [];
    await Promise.all(
      peers
        .filter((p) => !skip.has(p.url))
        .map((p) =>
          p.remove
            ? p.remove(this.name, key).catch((err) => failed.push(this.#peerFailure(p.url, err)))
            : failed.push({ peer: p.url, error: "the transport cannot remove values" }),
        ),
    );
  }

  #peerFailure(peer: string, err: unknown): PeerFailure {
    this.#stats.peerErrors++;
    return { peer, error: errorMessage(err) };
  }

  async #load(key: string): Promise<GetResult> {
    // Another flight may have filled the cache between our miss and this call (groupcache's load race).
    const hit = this.lookup(key);
    if (hit) return hit;
    this.#stats.loadsDeduped++;
    const peer = this.#peers?.pickPeer(key);
    return peer ? this.#viaPeer(key, () => peer.get(this.name, key)) : this.#loadLocally(key);
  }

  /** #viaPeer takes the owner's answer (maybe into the hot cache) and loads locally when the owner failed. */
  async #viaPeer(key: string, ask: () => Promise<PeerResponse>): Promise<GetResult> {
    const mark = this.#marks.begin(key);
    try {
      const res = await ask();
      this.#stats.peerLoads++;
      const entry = new Entry(ByteView.adopt(res.value), res.expiresAt);
      if (!mark.stale && this.#hotRatio > 0 && this.#random() < this.#hotRatio && !this.#expired(entry)) this.#keepHot(key, entry);
      return { value: entry.value, expiresAt: entry.expiresAt, from: "peer" };
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.#stats.peerErrors++;
    } finally {
      this.#marks.end(key, mark);
    }
    // The owner failed: a copy holder may have the value it was written with.
    const copy = await this.#peekCopies(key);
    if (copy) return copy;
    // Load here, but keep the value only as a short-lived copy, so it cannot outlive the owner's
    // return by more than hotTtl.
    return this.#loadLocally(key, false, true);
  }

  /** #peekCopies asks the nodes that hold copies of key's written value for their cached copy; the first one found is kept as a hot copy. */
  async #peekCopies(key: string): Promise<GetResult | undefined> {
    for (const holder of this.#peers?.copyHolders?.(key) ?? []) {
      if (holder === "self" || !holder.peek) continue; // our own caches were looked at first
      const res = await holder.peek(this.name, key).catch(() => undefined);
      if (!res) continue;
      const entry = new Entry(ByteView.adopt(res.value), res.expiresAt);
      if (this.#expired(entry)) continue;
      this.#keepHot(key, entry);
      return { value: entry.value, expiresAt: entry.expiresAt, from: "peer" };
    }
    return undefined;
  }

  /** #keepHot stores a copy of another node's key in the hot cache, living at most hotTtl (and never past its own expiry). */
  #keepHot(key: string, entry: Entry): void {
    if (this.#hotTtl <= 0) return;
    this.#caches.populate(this.#caches.hot, key, new Entry(entry.value, entry.expiresAt, this.#now() + this.#hotTtl));
  }

  /** dropHot removes the hot copies whose key matches (those taken from a peer that restarted); it returns how many. */
  dropHot(matches: (key: string) => boolean): number {
    const hot = this.#caches.hot.lru;
    const before = hot.length;
    hot.sweep(0, Number.MAX_SAFE_INTEGER, (key) => matches(key));
    return before - hot.length;
  }

  #loadLocally(key: string, refresh = false, fallback = false): Promise<GetResult> {
    return this.#local.do(key, async () => {
      if (!refresh) {
        const hit = this.#lookupIn(this.#caches.main, key, "main");
        if (hit) return hit;
      }
      const mark = this.#marks.begin(key);
      try {
        // Handoff: the node that owned key before the ring changed may hold it; taking its copy spares the source.
        if (!refresh && this.#peers?.peekPrevious) {
          const res = await this.#peers.peekPrevious(this.name, key);
          if (res) {
            const entry = new Entry(ByteView.adopt(res.value), res.expiresAt);
            if (!this.#expired(entry)) {
              if (!mark.stale) this.#caches.populate(this.#caches.main, key, entry);
              return { value: entry.value, expiresAt: entry.expiresAt, from: "peer" as const };
            }
          }
        }
        // A restarted owner takes a written value back from a copy holder before it would load.
        if (!refresh && !fallback && this.#peers?.copyHolders) {
          const copy = await this.#peekCopies(key);
          if (copy) {
            const entry = new Entry(copy.value, copy.expiresAt);
            if (!mark.stale) this.#caches.populate(this.#caches.main, key, entry);
            this.#caches.hot.lru.remove(key);
            return copy;
          }
        }
        let loaded: Awaited<ReturnType<Getter>>;
        try {
          loaded = await this.#getter(key, { group: this.name });
        } catch (err) {
          this.#stats.localLoadErrs++;
          if (err instanceof GeeCacheError) throw err;
          throw new GeeCacheError("LOAD_FAILED", `group ${this.name}: loading ${JSON.stringify(key)} failed: ${errorMessage(err)}`, { cause: err });
        }
        if (loaded === undefined || loaded === null) {
          this.#stats.localLoadErrs++;
          throw new GeeCacheError("NOT_FOUND", `key ${JSON.stringify(key)} not found in group ${this.name}`);
        }
        const entry = entryOf(this.name, key, loaded, (ttl, expiresAt) => this.#expiry(ttl, expiresAt));
        this.#stats.localLoads++;
        if (!mark.stale && !this.#expired(entry)) {
          if (fallback) this.#keepHot(key, entry);
          else this.#caches.populate(this.#caches.main, key, entry);
        }
        return { value: entry.value, expiresAt: entry.expiresAt, from: "loader" as const };
      } finally {
        this.#marks.end(key, mark);
      }
    });
  }

  #expiry(ttl: number | undefined, expiresAt: number | undefined): number {
    if (expiresAt !== undefined && expiresAt > 0) return expiresAt;
    const t = ttl ?? this.ttl;
    return t > 0 ? this.#now() + t : 0;
  }

  #expired(e: Entry): boolean {
    return e.expiresAt !== 0 && this.#now() >= e.expiresAt;
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
        if (!this.#local.inFlight(key)) this.#loadLocally(key, true).catch(() => {}); // counted in localLoadErrs
      }
    }
    cache.hits++;
    return { value: e.value, expiresAt: e.expiresAt, from };
  }

  #invalidate(key: string): void {
    this.#marks.invalidate(key);
    this.#flight.forget(key);
    this.#local.forget(key);
  }
}
