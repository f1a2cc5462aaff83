import { ByteView } from "./byteview.ts";
import { errorMessage, GeeCacheError, isNotFound } from "./errors.ts";
import { LRU } from "./lru.ts";
import type { PeerPicker } from "./peers.ts";
import { SingleFlight } from "./singleflight.ts";

/** LoadContext is what a loader is told besides the key. */
export interface LoadContext {
  readonly group: string;
}

/** LoadedValue is a loader's answer: the value alone, or with a TTL in ms or an absolute expiry in Unix ms. */
export type LoadedValue =
  | Uint8Array
  | string
  | ByteView
  | { value: Uint8Array | string | ByteView; ttl?: number; expiresAt?: number };

/** Getter loads a key on a miss; it returns (or resolves) undefined, or throws `notFound()`, when the key does not exist. */
export type Getter = (key: string, ctx: LoadContext) => LoadedValue | undefined | null | Promise<LoadedValue | undefined | null>;

/** GroupOptions configures a Group; see the DEFAULT_* constants for what is left out. */
export interface GroupOptions {
  name: string;
  getter: Getter;
  /** cacheBytes is the budget shared by the main and hot caches; 0 caches nothing. */
  cacheBytes?: number;
  peers?: PeerPicker;
  /** ttl is the default lifetime of a value in ms; 0 = forever. */
  ttl?: number;
  /** stale is how long past its expiry a value this node owns is still served while one background load refreshes it (ms; 0 = off). */
  stale?: number;
  /** hotCacheRatio is the chance that a value fetched from a peer is kept in the hot cache. */
  hotCacheRatio?: number;
  random?: () => number;
  now?: () => number;
}

/** DEFAULT_CACHE_BYTES is a group's budget when none is given: 64 MiB. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** DEFAULT_HOT_CACHE_RATIO: one in ten peer fetches is kept locally, as in groupcache. */
export const DEFAULT_HOT_CACHE_RATIO = 0.1;
/** MAX_KEY_LENGTH bounds keys (in UTF-16 units) so a key always fits a URL and a log line. */
export const MAX_KEY_LENGTH = 64 * 1024;

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

/** CacheStats describe one of a group's caches. */
export interface CacheStats {
  bytes: number;
  items: number;
  gets: number;
  hits: number;
  evictions: number;
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

/** Entry is what the caches hold: a value and its expiry. */
class Entry {
  constructor(
    readonly value: ByteView,
    readonly expiresAt: number,
  ) {}
  get length(): number {
    return this.value.length;
  }
}

class Cache {
  readonly lru = new LRU<Entry>();
  gets = 0;
  hits = 0;
  evictions = 0;
  stats(): CacheStats {
    return { bytes: this.lru.bytes, items: this.lru.length, gets: this.gets, hits: this.hits, evictions: this.evictions };
  }
}

interface WriteMark {
  stale: boolean; // a set or remove happened since the load began
  loads: number; // loads holding this mark
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
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #main = new Cache(); // values this node owns
  readonly #hot = new Cache(); // popular values owned by other peers
  readonly #flight = new SingleFlight<GetResult>(); // gets: peer fetch or local load
  readonly #local = new SingleFlight<GetResult>(); // loader calls; never waits on a peer
  readonly #marks = new Map<string, WriteMark>(); // keys with a load in flight
  #sweepCursor = 0; // where the next sweep of the main cache starts; the hot cache's is #hotSweepCursor
  #hotSweepCursor = 0;
  readonly #stats: GroupStats = { gets: 0, cacheHits: 0, peerLoads: 0, peerErrors: 0, loads: 0, loadsDeduped: 0, localLoads: 0, localLoadErrs: 0, serverRequests: 0 };

  constructor(options: GroupOptions) {
    const { name, getter } = options;
    if (typeof name !== "string" || name === "") throw new TypeError("Group name must be a non-empty string");
    if (typeof getter !== "function") throw new TypeError(`Group ${name}: getter must be a function (key, ctx) => value`);
    this.name = name;
    this.#getter = getter;
    this.cacheBytes = checkNumber(name, "cacheBytes", options.cacheBytes ?? DEFAULT_CACHE_BYTES, true);
    this.ttl = checkNumber(name, "ttl", options.ttl ?? 0, false);
    this.stale = checkNumber(name, "stale", options.stale ?? 0, false);
    this.#hotRatio = options.hotCacheRatio ?? DEFAULT_HOT_CACHE_RATIO;
    if (!(this.#hotRatio >= 0 && this.#hotRatio <= 1)) throw new RangeError(`Group ${name}: hotCacheRatio must be from 0 to 1, got ${this.#hotRatio}`);
    this.#peers = options.peers;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
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

  /** getLocal answers a peer: the value from the main cache or the loader, never from another peer. */
  getLocal(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    const bad = keyError(this.name, key);
    if (bad) return Promise.reject(bad);
    // Counted as gets too, as groupcache does, so that cacheHits / gets stays a hit ratio.
    this.#stats.serverRequests++;
    this.#stats.gets++;
    const hit = this.#lookupIn(this.#main, key, "main");
    if (hit) {
      this.#stats.cacheHits++;
      return Promise.resolve(hit);
    }
    this.#stats.loads++;
    return withSignal(() => this.#loadLocally(key), options?.signal);
  }

  /** lookup returns the cached value of key from the main or hot cache, without loading. */
  lookup(key: string): GetResult | undefined {
    return this.#lookupIn(this.#main, key, "main") ?? this.#lookupIn(this.#hot, key, "hot");
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
    const failed: PeerFailure[] = [];
    if (owner) {
      this.removeLocal(key); // our hot copy, if any, is now stale
      if (!owner.set) throw new GeeCacheError("INVALID_ARGUMENT", `group ${this.name}: the transport of peer ${owner.url} cannot set values`);
      await owner.set(this.name, key, view, expiresAt).catch((err) => failed.push(this.#peerFailure(owner.url, err)));
    } else {
      this.setLocal(key, view, expiresAt > 0 ? { expiresAt } : { ttl: 0 }); // 0 is already resolved: never
    }
    await this.#broadcastRemove(key, owner?.url, failed);
    return { failed };
  }

  /** remove drops key from every node's caches; it resolves with the peers that could not be reached. */
  async remove(key: string): Promise<WriteResult> {
    checkKey(this.name, key);
    this.removeLocal(key);
    const failed: PeerFailure[] = [];
    await this.#broadcastRemove(key, undefined, failed);
    return { failed };
  }

  /** setLocal stores value in this node's main cache only (a peer's PUT lands here); it wins over a load of key in flight. */
  setLocal(key: string, value: Uint8Array | string | ByteView, options: { ttl?: number; expiresAt?: number } = {}): GetResult {
    checkKey(this.name, key);
    this.#invalidate(key);
    this.#hot.lru.remove(key);
    const entry = new Entry(ByteView.from(value), this.#expiry(options.ttl, options.expiresAt));
    this.#populate(this.#main, key, entry);
    return { value: entry.value, expiresAt: entry.expiresAt, from: "main" };
  }

  /** removeLocal drops key from this node's caches only (and wins over a load of key in flight); true if it was cached. */
  removeLocal(key: string): boolean {
    checkKey(this.name, key);
    this.#invalidate(key);
    const a = this.#main.lru.remove(key);
    const b = this.#hot.lru.remove(key);
    return a || b;
  }

  /** stats returns a copy of the group's counters. */
  stats(): GroupStats {
    return { ...this.#stats };
  }

  /** cacheStats returns the main and hot caches' figures. */
  cacheStats(): { main: CacheStats; hot: CacheStats } {
    return { main: this.#main.stats(), hot: this.#hot.stats() };
  }

  /**
   * sweep frees expired entries that nobody touches: it looks at no more than `budget` slots of
   * each cache, going on next time where it stopped, so a call is always small. It returns the
   * number of entries freed.
   */
  sweep(budget = 1000): number {
    const now = this.#now();
    let freed = 0;
    // Only owned values may be served stale; a hot copy is dead at its expiry.
    const dead = (keepFor: number) => (_key: string, e: Entry) => {
      const gone = e.expiresAt !== 0 && now >= e.expiresAt + keepFor;
      if (gone) freed++;
      return gone;
    };
    this.#sweepCursor = this.#main.lru.sweep(this.#sweepCursor, budget, dead(this.stale));
    this.#hotSweepCursor = this.#hot.lru.sweep(this.#hotSweepCursor, budget, dead(0));
    return freed;
  }

  async #broadcastRemove(key: string, skip: string | undefined, failed: PeerFailure[]): Promise<void> {
    const peers = this.#peers?.remotePeers?.() ?? [];
    await Promise.all(
      peers
        .filter((p) => p.url !== skip)
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
    if (peer) {
      const mark = this.#begin(key);
      try {
        const res = await peer.get(this.name, key);
        this.#stats.peerLoads++;
        const entry = new Entry(ByteView.adopt(res.value), res.expiresAt);
        if (!mark.stale && this.#hotRatio > 0 && this.#random() < this.#hotRatio && !this.#expired(entry)) {
          this.#populate(this.#hot, key, entry);
        }
        return { value: entry.value, expiresAt: entry.expiresAt, from: "peer" };
      } catch (err) {
        if (isNotFound(err)) throw err;
        this.#stats.peerErrors++;
      } finally {
        this.#end(key, mark);
      }
    }
    return this.#loadLocally(key);
  }

  #loadLocally(key: string, refresh = false): Promise<GetResult> {
    return this.#local.do(key, async () => {
      if (!refresh) {
        const hit = this.#lookupIn(this.#main, key, "main");
        if (hit) return hit;
      }
      const mark = this.#begin(key);
      try {
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
        const entry = this.#entryOf(key, loaded);
        this.#stats.localLoads++;
        if (!mark.stale && !this.#expired(entry)) this.#populate(this.#main, key, entry);
        return { value: entry.value, expiresAt: entry.expiresAt, from: "loader" as const };
      } finally {
        this.#end(key, mark);
      }
    });
  }

  #entryOf(key: string, loaded: LoadedValue): Entry {
    if (typeof loaded === "string" || loaded instanceof Uint8Array || loaded instanceof ByteView) {
      return new Entry(ByteView.from(loaded), this.#expiry(undefined, undefined));
    }
    if (typeof loaded === "object" && "value" in loaded) {
      try {
        return new Entry(ByteView.from(loaded.value), this.#expiry(loaded.ttl, loaded.expiresAt));
      } catch (err) {
        throw new GeeCacheError("LOAD_FAILED", `group ${this.name}: loader returned a bad value for ${JSON.stringify(key)}: ${errorMessage(err)}`, { cause: err });
      }
    }
    throw new GeeCacheError("LOAD_FAILED", `group ${this.name}: loader returned ${typeof loaded} for ${JSON.stringify(key)}; expected a string, Uint8Array, ByteView or { value }`);
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
    if (e.expiresAt !== 0) {
      const now = this.#now();
      if (now >= e.expiresAt) {
        // Past its expiry a value we own may still be served for `stale` ms while one load refreshes it.
        if (cache !== this.#main || now >= e.expiresAt + this.stale) {
          cache.lru.remove(key);
          return undefined;
        }
        if (!this.#local.inFlight(key)) this.#loadLocally(key, true).catch(() => {}); // counted in localLoadErrs
      }
    }
    cache.hits++;
    return { value: e.value, expiresAt: e.expiresAt, from };
  }

  #populate(cache: Cache, key: string, entry: Entry): void {
    if (entry.length + Buffer.byteLength(key) > this.cacheBytes) {
      cache.lru.remove(key); // too big to keep at all; never leave an older value behind
      return;
    }
    cache.lru.add(key, entry);
    // Evict until both caches fit; the hot cache may hold at most an eighth of the main cache's bytes.
    const main = this.#main;
    const hot = this.#hot;
    while (main.lru.bytes + hot.lru.bytes > this.cacheBytes) {
      const victim = hot.lru.bytes > main.lru.bytes / 8 ? hot : main;
      if (!victim.lru.removeOldest()) break;
      victim.evictions++;
    }
  }

  #begin(key: string): WriteMark {
    let mark = this.#marks.get(key);
    if (!mark) this.#marks.set(key, (mark = { stale: false, loads: 0 }));
    mark.loads++;
    return mark;
  }

  #end(key: string, mark: WriteMark): void {
    if (--mark.loads === 0 && this.#marks.get(key) === mark) this.#marks.delete(key);
  }

  #invalidate(key: string): void {
    const mark = this.#marks.get(key);
    if (mark) {
      mark.stale = true;
      this.#marks.delete(key);
    }
    this.#flight.forget(key);
    this.#local.forget(key);
  }
}

function checkKey(group: string, key: unknown): asserts key is string {
  const err = keyError(group, key);
  if (err) throw err;
}

function keyError(group: string, key: unknown): GeeCacheError | undefined {
  if (typeof key !== "string") return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key must be a string, got ${typeof key}`);
  if (key === "") return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key is empty`);
  if (key.length > MAX_KEY_LENGTH) return new GeeCacheError("TOO_LARGE", `group ${group}: key is ${key.length} characters, over the limit of ${MAX_KEY_LENGTH}`);
  return undefined;
}

function checkNumber(group: string, what: string, v: number, integer: boolean): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`Group ${group}: ${what} must be a finite ${integer ? "integer" : "number"} >= 0, got ${v}`);
  }
  return v;
}

// start is called only when the signal has not fired: a load begun for an already aborted caller
// would have nobody to hand its rejection to (an unhandled rejection ends the process).
function withSignal<T>(start: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return start();
  if (signal.aborted) return Promise.reject(abortError(signal));
  const p = start();
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const onAbort = () => reject(abortError(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  return promise;
}

function abortError(signal: AbortSignal): GeeCacheError {
  return new GeeCacheError("ABORTED", "the request was aborted", { cause: signal.reason });
}
