// A 4-bit count-min sketch with a doorkeeper, the frequency estimate behind TinyLFU admission.
//
// Layout: the table is 32-bit words (Int32Array: JSC keeps int32 loads in integer registers) of eight 4-bit counters,
// grouped in 64-byte blocks of 16 words.
// A key's four counters all live in one block (one cache line): row r owns words 4r..4r+3 of the
// block, and the key picks one word and one nibble per row from its hash. A key's block is its
// hash masked by the block count, so doubling the table copies it into both halves and every key
// still finds its counts. The doorkeeper is a bloom filter that takes a key's first occurrence, so
// one-hit wonders never reach the counters; an estimate adds 1 when the doorkeeper holds the key.
// After `sampleSize` increments every counter is halved and the doorkeeper cleared (aging).

const MIN_CAPACITY = 64;
const MAX_CAPACITY = 1 << 26; // 512 MiB of counters would be absurd; past this, keys share more
// The TinyLFU paper halves after 10 x capacity increments; 20 x measured +1.5 points on Zipf 0.99 at a
// cache of 1% of the keys (scripts/bench/hit-ratio.ts) with no loss on the popularity-shift trace.
const SAMPLE_FACTOR = 20;
const ODD_NIBBLES = 0x11111111;
const HALF_MASK = 0x77777777; // clears each nibble's top bit after a shift right

/** spread is the murmur3 32-bit finalizer: every input bit affects every output bit. */
function spread(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

function nextPow2(n: number): number {
  let p = MIN_CAPACITY;
  while (p < n && p < MAX_CAPACITY) p *= 2;
  return p;
}

/**
 * hashKey is the 32-bit hash the sketch is keyed by: FNV-style over pairs of UTF-16 code units, in
 * JS because a native hash (Bun.hash) pays a UTF-8 conversion and a call out that cost ~40 ns per
 * add; the sketch mixes it again (murmur3's finalizer) before use.
 */
export function hashKey(s: string): number {
  const n = s.length;
  let h = n ^ 0x811c9dc5;
  let i = 0;
  for (; i + 1 < n; i += 2) h = Math.imul(h ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), 0x01000193);
  if (i < n) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * FrequencySketch estimates how often each 32-bit key hash was seen recently, from 0 to 16
 * (15 in the counters + 1 in the doorkeeper). Estimates never undercount since the last halving,
 * and overcount only through collisions. Capacity is the number of distinct keys it should tell
 * apart; `ensureCapacity` grows it without losing counts.
 */
export class FrequencySketch {
  private table: Int32Array<ArrayBuffer>; // 16 words (64 bytes) per block
  private door: Int32Array<ArrayBuffer>; // doorkeeper bits
  private blockMask = 0;
  private doorMask = 0; // word index mask
  private cap = 0;
  private additions = 0; // increments since the last halving
  private sample = 0;
  private readonly beforeHalve: (() => void) | undefined;

  /**
   * beforeHalve, when given, is called at the start of every halving: an owner holding counts not yet recorded records
   * them then.
   */
  constructor(capacity = MIN_CAPACITY, beforeHalve?: () => void) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`FrequencySketch: capacity must be an integer >= 0, got ${capacity}`);
    }
    if (beforeHalve !== undefined && typeof beforeHalve !== "function")
      throw new TypeError(`FrequencySketch: beforeHalve must be a function, got ${typeof beforeHalve}`);
    this.beforeHalve = beforeHalve;
    this.table = new Int32Array(0);
    this.door = new Int32Array(0);
    this.resize(nextPow2(capacity));
  }

  /** capacity is the number of distinct keys the table is sized for (a power of two). */
  get capacity(): number {
    return this.cap;
  }

  /** sampleSize is the number of increments after which all counts halve. */
  get sampleSize(): number {
    return this.sample;
  }

  /** ensureCapacity grows the table to tell apart at least n keys, keeping every count. */
  ensureCapacity(n: number): void {
    if (n > this.cap && this.cap < MAX_CAPACITY) this.resize(nextPow2(n));
  }

  /**
   * frequency returns the estimated recent count of hash h, from 0 to 16; given n, the estimate
   * record(h, n) would leave, without recording anything.
   */
  frequency(h: number, n = 0): number {
    const t = this.table;
    const b = (spread(h) & this.blockMask) << 4;
    const o = spread(h ^ 0x9e3779b9);
    // Row r reads word b + 4r + (2 bits of o), nibble (3 bits of o): byte r of o picks both.
    const c0 = (t[b + (o & 3)]! >>> (o & 0x1c)) & 15;
    const c1 = (t[b + 4 + ((o >>> 8) & 3)]! >>> ((o >>> 8) & 0x1c)) & 15;
    const c2 = (t[b + 8 + ((o >>> 16) & 3)]! >>> ((o >>> 16) & 0x1c)) & 15;
    const c3 = (t[b + 12 + ((o >>> 24) & 3)]! >>> ((o >>> 24) & 0x1c)) & 15;
    let min = c0 < c1 ? c0 : c1;
    if (c2 < min) min = c2;
    if (c3 < min) min = c3;
    const door = this.doorBit(h, false);
    if (n <= 0) return min + door;
    // Without counts or a doorkeeper bit, the first of n goes to the doorkeeper (as in record).
    if (min === 0 && door === 0) return n > 16 ? 16 : n;
    return (min + n > 15 ? 15 : min + n) + door;
  }

  /**
   * increment records one occurrence of hash h and returns the smallest of its four counters after
   * it. A key whose counters are all 0 goes to the doorkeeper first and to the counters from its
   * second occurrence; the smallest counters rise by one (conservative update) and stop at 15.
   */
  increment(h: number): number {
    const min = this.record(h, 1);
    if (++this.additions >= this.sample) this.halve();
    return min;
  }

  /**
   * record adds n occurrences of hash h at once, exactly as n calls of increment would leave its
   * counters (the doorkeeper takes the first when h has no counts), but without counting them
   * towards the next halving: the caller counted each with tick() when it happened. It returns
   * the smallest of h's four counters after them.
   */
  record(h: number, n: number): number {
    const t = this.table;
    const b = (spread(h) & this.blockMask) << 4;
    const o = spread(h ^ 0x9e3779b9);
    const w0 = b + (o & 3);
    const w1 = b + 4 + ((o >>> 8) & 3);
    const w2 = b + 8 + ((o >>> 16) & 3);
    const w3 = b + 12 + ((o >>> 24) & 3);
    const s0 = o & 0x1c;
    const s1 = (o >>> 8) & 0x1c;
    const s2 = (o >>> 16) & 0x1c;
    const s3 = (o >>> 24) & 0x1c;
    const c0 = (t[w0]! >>> s0) & 15;
    const c1 = (t[w1]! >>> s1) & 15;
    const c2 = (t[w2]! >>> s2) & 15;
    const c3 = (t[w3]! >>> s3) & 15;
    let min = c0 < c1 ? c0 : c1;
    if (c2 < min) min = c2;
    if (c3 < min) min = c3;
    if (n <= 0 || min === 15) return min;
    // The doorkeeper is only asked about keys without counts: the others already proved themselves.
    if (min === 0 && this.doorBit(h, true) === 0) n--;
    // n conservative increments raise every counter below min + n to it (at most 15); the rest stay.
    const to = min + n > 15 ? 15 : min + n;
    if (c0 < to) t[w0] = t[w0]! + ((to - c0) << s0);
    if (c1 < to) t[w1] = t[w1]! + ((to - c1) << s1);
    if (c2 < to) t[w2] = t[w2]! + ((to - c2) << s2);
    if (c3 < to) t[w3] = t[w3]! + ((to - c3) << s3);
    return to;
  }

  /**
   * tick counts an occurrence towards the next halving without touching the counters: the caller records it later with
   * record().
   */
  tick(): void {
    if (++this.additions >= this.sample) this.halve();
  }

  /** clear forgets every count. */
  clear(): void {
    this.table.fill(0);
    this.door.fill(0);
    this.additions = 0;
  }

  /** halve divides every counter by two and empties the doorkeeper, so old popularity fades. */
  halve(): void {
    this.beforeHalve?.();
    const t = this.table;
    let odd = 0;
    for (let i = 0; i < t.length; i++) {
      const w = t[i]!;
      odd += popcount(w & ODD_NIBBLES);
      t[i] = (w >>> 1) & HALF_MASK;
    }
    this.door.fill(0);
    // Each key adds to up to four counters, so about odd/4 increments were lost to rounding down.
    this.additions = Math.max(0, (this.additions - (odd >>> 2)) >>> 1);
  }

  // doorBit reports (1) whether both of h's doorkeeper bits are set; with set, it sets them. Both
  // bits are in one word (a blocked bloom filter), so a check costs one memory read, not two.
  private doorBit(h: number, set: boolean): number {
    const d = this.door;
    const w = spread(h ^ 0x85ebca6b) & this.doorMask;
    const y = spread(h + 0x27d4eb2f);
    const m = (1 << (y & 31)) | (1 << ((y >>> 5) & 31));
    const word = d[w]!;
    if ((word & m) === m) return 1;
    if (set) d[w] = word | m;
    return 0;
  }

  /** save returns the sketch's counts as bytes (capacity, additions, counters, doorkeeper), for load to take back. */
  save(): Uint8Array {
    const out = new Uint8Array(8 + this.table.byteLength + this.door.byteLength);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.cap, true);
    dv.setUint32(4, this.additions, true);
    out.set(new Uint8Array(this.table.buffer), 8);
    out.set(new Uint8Array(this.door.buffer), 8 + this.table.byteLength);
    return out;
  }

  /**
   * load takes back what save returned (of a sketch of any capacity up to this one's maximum): the
   * table grows to it if smaller, a bigger table holds it repeated, as growing does. False when the
   * bytes are not a saved sketch; nothing changes then.
   */
  load(bytes: Uint8Array): boolean {
    if (bytes.length < 8) return false;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const cap = dv.getUint32(0, true);
    if (cap === 0 || (cap & (cap - 1)) !== 0 || cap > MAX_CAPACITY || bytes.length !== 8 + cap * 12) return false;
    this.ensureCapacity(cap);
    const table = new Int32Array(bytes.slice(8, 8 + cap * 8).buffer);
    const door = new Int32Array(bytes.slice(8 + cap * 8).buffer);
    for (let off = 0; off < this.table.length; off += table.length) this.table.set(table, off);
    for (let off = 0; off < this.door.length; off += door.length) this.door.set(door, off);
    this.additions = Math.min(dv.getUint32(4, true), this.sample - 1);
    return true;
  }

  private resize(cap: number): void {
    // 16 counters (8 bytes) per key as in Caffeine's sketch; 32 doorkeeper bits per key.
    const table = new Int32Array(cap * 2);
    const door = new Int32Array(cap);
    // A key's index is its hash masked by the size, so after doubling it lands in the copy of its
    // old block (or bit) in one of the halves: copying into both halves keeps every count.
    for (let off = 0; off < table.length && this.table.length > 0; off += this.table.length) table.set(this.table, off);
    for (let off = 0; off < door.length && this.door.length > 0; off += this.door.length) door.set(this.door, off);
    this.table = table;
    this.door = door;
    this.blockMask = (cap >>> 3) - 1;
    this.doorMask = cap - 1; // a word index
    this.cap = cap;
    this.sample = cap * SAMPLE_FACTOR;
  }
}
