/** HashFn maps bytes of a string to an unsigned 32-bit number. */
export type HashFn = (data: string) => number;

/** wyhash is the default ring hash: Bun.hash (wyhash), low 32 bits. */
// a mask is the cheapest way from the bigint
export const wyhash: HashFn = (data) => Number(Bun.hash.wyhash(data) & 0xffffffffn);

/** crc32 is the IEEE CRC-32 that Go GeeCache and groupcache use, for rings that must agree with them. */
export const crc32: HashFn = (data) => Bun.hash.crc32(data) >>> 0;

/** DEFAULT_REPLICAS is the number of virtual nodes per peer, as in groupcache's HTTPPool. */
export const DEFAULT_REPLICAS = 50;

/** HASHES names the ring hashes: wyhash (the default) and crc32 (Go GeeCache's and groupcache's). */
export const HASHES = ["wyhash", "crc32"] as const;
/** DEFAULT_HASH is the ring's hash when none is given. */
export const DEFAULT_HASH: (typeof HASHES)[number] = "wyhash";

/** RingOptions configures a Ring: virtual nodes per peer and the hash. */
export interface RingOptions {
  replicas?: number;
  hash?: HashFn | "wyhash" | "crc32";
}

/**
 * Ring is a consistent-hash ring with virtual nodes. Virtual node i of peer P sits at
 * hash(`${i}${P}`), and a key belongs to the first virtual node at or after hash(key), wrapping:
 * the GeeCache/groupcache algorithm, so in crc32 mode both route every key alike.
 */
export class Ring {
  readonly replicas: number;
  readonly #hash: HashFn;
  #points = new Uint32Array(0); // sorted virtual-node hashes
  #owners: string[] = []; // owners[i] is the peer of points[i]
  readonly #peers = new Set<string>();

  constructor(options: RingOptions = {}) {
    const replicas = options.replicas ?? DEFAULT_REPLICAS;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10_000) {
      throw new RangeError(`Ring replicas must be an integer from 1 to 10000, got ${replicas}`);
    }
    this.replicas = replicas;
    const h = options.hash ?? DEFAULT_HASH;
    if (h === "wyhash") this.#hash = wyhash;
    else if (h === "crc32") this.#hash = crc32;
    else if (typeof h === "function") this.#hash = h;
    else throw new TypeError(`Ring hash must be "wyhash", "crc32" or a function, got ${JSON.stringify(h)}`);
  }

  /** add puts peers on the ring; a peer already there is left as is. */
  add(...peers: string[]): void {
    let changed = false;
    for (const p of peers) {
      if (typeof p !== "string" || p === "") throw new TypeError("Ring peers must be non-empty strings");
      if (!this.#peers.has(p)) {
        this.#peers.add(p);
        changed = true;
      }
    }
    if (changed) this.#rebuild();
  }

  /** remove takes peers off the ring. */
  remove(...peers: string[]): void {
    let changed = false;
    for (const p of peers) changed = this.#peers.delete(p) || changed;
    if (changed) this.#rebuild();
  }

  /** set replaces the whole peer list. */
  set(peers: Iterable<string>): void {
    this.#peers.clear();
    this.add(...peers);
    if (this.#peers.size === 0) this.#rebuild();
  }

  /** peers lists the peers on the ring in insertion order. */
  peers(): string[] {
    return [...this.#peers];
  }

  /** get returns the peer that owns key, or undefined on an empty ring. */
  get(key: string): string | undefined {
    const points = this.#points;
    const n = points.length;
    if (n === 0) return undefined;
    const h = this.#hash(key) >>> 0;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === n ? 0 : lo];
  }

  /**
   * getN returns the owner of key followed by the next distinct peers clockwise, n in all (fewer
   * when the ring has fewer peers): where copies of a written value live.
   */
  getN(key: string, n: number): string[] {
    const points = this.#points;
    const len = points.length;
    if (len === 0 || n <= 0) return [];
    const h = this.#hash(key) >>> 0;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const want = Math.min(n, this.#peers.size);
    const out: string[] = [];
    for (let i = 0; i < len && out.length < want; i++) {
      const owner = this.#owners[(lo + i) % len]!;
      if (!out.includes(owner)) out.push(owner);
    }
    return out;
  }

  /** shares returns each peer's fraction of the 32-bit key space. */
  shares(): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.#peers) out.set(p, 0);
    const points = this.#points;
    const n = points.length;
    for (let i = 0; i < n; i++) {
      const prev = i === 0 ? points[n - 1]! - 2 ** 32 : points[i - 1]!;
      const owner = this.#owners[i]!;
      out.set(owner, out.get(owner)! + (points[i]! - prev) / 2 ** 32);
    }
    return out;
  }

  #rebuild(): void {
    // On a hash collision the peer added last owns the point, as the Go map in groupcache does.
    const byPoint = new Map<number, string>();
    for (const p of this.#peers) {
      for (let i = 0; i < this.replicas; i++) byPoint.set(this.#hash(`${i}${p}`) >>> 0, p);
    }
    this.#points = Uint32Array.from(byPoint.keys()).sort();
    this.#owners = Array.from(this.#points, (h) => byPoint.get(h)!);
  }
}
