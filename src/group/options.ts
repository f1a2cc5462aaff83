import { GROUP_NAME } from "../core/limits.ts";
import type { Getter } from "./loader.ts";
import type { PeerPicker } from "./peers.ts";

/** GroupOptions configures a Group; see the DEFAULT_* constants for what is left out. */
export interface GroupOptions {
  name: string;
  getter: Getter;
  /** cacheBytes is the budget shared by the main and hot caches; 0 caches nothing. */
  cacheBytes?: number;
  /** reservedBytes of cacheBytes are held outside the group's caches: the copies of a node's worker threads. */
  reservedBytes?: number;
  peers?: PeerPicker;
  /** ttl is the default lifetime of a value in ms; 0 = forever. */
  ttl?: number;
  /**
   * stale is how long past its expiry a value this node owns is still served while one background load refreshes it
   * (ms; 0 = off).
   */
  stale?: number;
  /**
   * hotCacheRatio is the chance that a value fetched from a peer is kept in the hot cache when the owner reports no
   * request rate (or hotQps is 0); 0 turns the hot cache off.
   */
  hotCacheRatio?: number;
  /**
   * hotQps keeps a value fetched from a peer in the hot cache iff the owner reports at least this many requests per
   * second for it; 0 = always the hotCacheRatio coin.
   */
  hotQps?: number;
  /**
   * admission is the main cache's policy: "tinylfu" (W-TinyLFU: a new key must out-count the keys it would displace) or
   * "lru". The hot cache is always LRU.
   */
  admission?: Admission;
  /**
   * hotTtl bounds (ms) how long a copy of another node's key is served here: hot copies, and values loaded while their
   * owner failed.
   */
  hotTtl?: number;
  random?: () => number;
  now?: () => number;
}

/** DEFAULT_CACHE_BYTES is a group's budget when none is given: 64 MiB. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** DEFAULT_HOT_CACHE_RATIO: one in ten peer fetches is kept locally, as in groupcache. */
export const DEFAULT_HOT_CACHE_RATIO = 0.1;
/**
 * DEFAULT_HOT_QPS is the owner-reported rate (requests per second) from which a peer's value is
 * kept hot. At the default hot TTL a copy of such a key serves about five gets here; in
 * scripts/bench/hot-qps.ts 1 gave the fewest peer hops (0.5 let more one-get copies churn the hot
 * cache, 2 left part of it empty).
 */
export const DEFAULT_HOT_QPS = 1;
/** DEFAULT_HOT_TTL: a copy of another node's key lives at most 5 s, so nodes cannot disagree for longer. */
export const DEFAULT_HOT_TTL = 5000;

/** Admission names a main-cache policy. */
export type Admission = "tinylfu" | "lru";
/** ADMISSIONS lists the policies admission accepts. */
export const ADMISSIONS: readonly Admission[] = ["tinylfu", "lru"];
/**
 * DEFAULT_ADMISSION is the main cache's policy when none is given: W-TinyLFU, because
 * scripts/bench/hit-ratio.ts measures it ahead of LRU on every Zipf trace at every size (most at
 * small caches) and within 2 points of it on the loop, scan and shift traces. Its hits cost tens of
 * ns more than LRU's (scripts/bench/lru.ts), well under 1% of a request served over HTTP.
 */
export const DEFAULT_ADMISSION: Admission = "tinylfu";

/** GroupSettings are GroupOptions checked, with every default filled in (peers stays optional). */
export type GroupSettings = Required<Omit<GroupOptions, "peers">> & Pick<GroupOptions, "peers">;

/**
 * groupSettings checks options and fills in the defaults; a bad value throws a TypeError or RangeError that says what
 * to fix.
 */
export function groupSettings(options: GroupOptions): GroupSettings {
  const { name, getter } = options;
  if (typeof name !== "string" || !GROUP_NAME.test(name)) {
    throw new TypeError(`Group name must be 1 to 128 letters, digits, "-", "_" or ".", got ${JSON.stringify(name)}`);
  }
  if (typeof getter !== "function") throw new TypeError(`Group ${name}: getter must be a function (key, ctx) => value`);
  const cacheBytes = checkNumber(name, "cacheBytes", options.cacheBytes ?? DEFAULT_CACHE_BYTES, true);
  const ttl = checkNumber(name, "ttl", options.ttl ?? 0, false);
  const stale = checkNumber(name, "stale", options.stale ?? 0, false);
  const hotCacheRatio = options.hotCacheRatio ?? DEFAULT_HOT_CACHE_RATIO;
  if (!(hotCacheRatio >= 0 && hotCacheRatio <= 1))
    throw new RangeError(`Group ${name}: hotCacheRatio must be from 0 to 1, got ${hotCacheRatio}`);
  const hotQps = checkNumber(name, "hotQps", options.hotQps ?? DEFAULT_HOT_QPS, false);
  const hotTtl = checkNumber(name, "hotTtl", options.hotTtl ?? DEFAULT_HOT_TTL, false);
  const admission = options.admission ?? DEFAULT_ADMISSION;
  if (!ADMISSIONS.includes(admission))
    throw new TypeError(`Group ${name}: admission must be "tinylfu" or "lru", got ${JSON.stringify(admission)}`);
  return {
    name,
    getter,
    cacheBytes,
    reservedBytes: checkNumber(name, "reservedBytes", options.reservedBytes ?? 0, false),
    ttl,
    stale,
    hotCacheRatio,
    hotQps,
    hotTtl,
    admission,
    peers: options.peers,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
  };
}

function checkNumber(group: string, what: string, v: number, integer: boolean): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`Group ${group}: ${what} must be a finite ${integer ? "integer" : "number"} >= 0, got ${v}`);
  }
  return v;
}
