import { utf8Length } from "./utf8.ts";

/** Sized is anything with a byte length; an LRU value's cost is its `length`. */
export interface Sized {
  readonly length: number;
}

/** LRUOptions configures an LRU; every field is optional. */
export interface LRUOptions<V extends Sized> {
  /** maxBytes is the budget in bytes; 0 or undefined means unlimited. */
  maxBytes?: number;
  /**
   * onEvicted is called after an entry leaves through the budget, `removeOldest()`, `remove()` or
   * `sweep()`.
   * It is not called when `add` replaces a key, even with a value too big to keep (the caller
   * already holds both values), nor on `clear()` (the caller asked to drop everything at once).
   * It must not call back into the same LRU.
   */
  onEvicted?: (key: string, value: V) => void;
}

// Slots start small and double; with a byte budget the entry count is still unknown because a
// value may cost 0 bytes, so no exact preallocation is possible.
const INITIAL_CAPACITY = 64;

/**
 * LRU is a least-recently-used cache bounded by total bytes (key UTF-8 length + value length).
 * An entry's cost is measured once, by add: a value whose length changes later is not re-measured.
 */
export class LRU<V extends Sized> {
  // Slots are indices into parallel arrays, linked most recent (head) to oldest (tail), so a hit
  // rewires a few integers instead of reinserting into the Map. Per-slot numbers are interleaved
  // in pairs so one slot's fields share a cache line.
  private readonly map = new Map<string, number>(); // key -> slot
  private keyList: string[] = []; // "" in free slots
  private valList: (V | undefined)[] = []; // undefined in free slots, so values can be collected
  private costs = new Float64Array(2 * INITIAL_CAPACITY); // [2i] key bytes, [2i+1] value bytes
  private links = new Uint32Array(2 * INITIAL_CAPACITY); // [2i] next (older), [2i+1] prev (newer)
  private free = new Uint32Array(INITIAL_CAPACITY); // stack of vacated slots
  private freeTop = 0;
  private used = 0; // slots handed out since clear(), = keyList.length
  private head = 0; // valid only when map.size > 0
  private tail = 0;
  private total = 0; // sum of costs over live slots
  private readonly limit: number;
  private readonly onEvicted: ((key: string, value: V) => void) | undefined;

  constructor(options: LRUOptions<V> = {}) {
    const { maxBytes = 0, onEvicted } = options;
    if (typeof maxBytes !== "number") {
      throw new TypeError(`LRU: maxBytes must be a number of bytes (0 = unlimited), got ${typeof maxBytes}`);
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`LRU: maxBytes must be a finite integer >= 0 (0 = unlimited), got ${maxBytes}`);
    }
    if (onEvicted !== undefined && typeof onEvicted !== "function") {
      throw new TypeError(`LRU: onEvicted must be a function (key, value) => void, got ${typeof onEvicted}`);
    }
    this.limit = maxBytes;
    this.onEvicted = onEvicted;
  }

  /** get returns the value for key and marks it most recently used. */
  get(key: string): V | undefined {
    // The head check follows the Map lookup rather than comparing keys before it: in JSC a
    // compare of unequal strings calls out, which cost ~9% on Zipf hits to save ~3 ns on repeats.
    const i = this.map.get(key);
    if (i === undefined) return undefined;
    if (i !== this.head) this.moveToHead(i);
    return this.valList[i];
  }

  /** peek returns the value for key without changing its recency. */
  peek(key: string): V | undefined {
    const i = this.map.get(key);
    return i === undefined ? undefined : this.valList[i];
  }

  /** has reports whether key is cached, without changing its recency. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /**
   * add inserts or replaces key as most recent, then evicts oldest entries until within budget.
   * It returns false, storing nothing and dropping any old entry for key, when the entry alone
   * costs more than maxBytes.
   */
  add(key: string, value: V): boolean {
    const vb = value.length;
    // NaN or a negative cost would corrupt the byte count for good.
    if (!(vb >= 0)) throw new TypeError(`LRU.add: value.length must be a number >= 0, got ${vb}`);
    const limit = this.limit;
    const costs = this.costs;
    let i = this.map.get(key);
    if (i !== undefined) {
      if (limit > 0 && costs[2 * i]! + vb > limit) {
        // The caller meant to replace the old value, so keeping it would serve stale data.
        this.unlink(i);
        return false;
      }
      this.total += vb - costs[2 * i + 1]!;
      costs[2 * i + 1] = vb;
      this.valList[i] = value;
      if (i !== this.head) this.moveToHead(i);
      // The entry fits on its own and is now the head, so this stops before reaching it.
      if (limit > 0) while (this.total > limit) this.evictOldest();
      return true;
    }
    const kb = utf8Length(key);
    const cost = kb + vb;
    if (limit > 0) {
      if (cost > limit) return false;
      // Evicting first lets alloc() reuse the slot just vacated, whose cache lines are warm.
      while (this.total + cost > limit) this.evictOldest();
    }
    i = this.alloc(); // may grow the typed arrays, so they are re-read from this below
    this.keyList[i] = key;
    this.valList[i] = value;
    this.costs[2 * i] = kb;
    this.costs[2 * i + 1] = vb;
    this.total += cost;
    if (this.map.size !== 0) {
      this.links[2 * i] = this.head;
      this.links[2 * this.head + 1] = i;
    } else {
      this.tail = i;
    }
    this.head = i;
    this.map.set(key, i);
    return true;
  }

  /** remove deletes key, calling onEvicted; it returns whether key was present. */
  remove(key: string): boolean {
    const i = this.map.get(key);
    if (i === undefined) return false;
    this.evict(i);
    return true;
  }

  /** removeOldest deletes the least recently used entry, calling onEvicted; false when empty. */
  removeOldest(): boolean {
    if (this.map.size === 0) return false;
    this.evictOldest();
    return true;
  }

  /**
   * sweep checks at most `budget` slots starting at slot `cursor`, removes the entries for which
   * `dead(key, value)` is true (calling onEvicted, as remove does), and returns the cursor to pass
   * next time; a cursor past the end starts over at 0. Recency is untouched; `dead` must not
   * modify the LRU. It walks slots, not recency order, so each call is bounded and cheap.
   */
  sweep(cursor: number, budget: number, dead: (key: string, value: V) => boolean): number {
    if (!Number.isInteger(cursor) || cursor < 0) {
      throw new RangeError(`LRU.sweep: cursor must be an integer >= 0 returned by sweep, got ${cursor}`);
    }
    if (!Number.isInteger(budget) || budget < 0) {
      throw new RangeError(`LRU.sweep: budget must be an integer >= 0, got ${budget}`);
    }
    const used = this.used;
    if (used === 0) return 0;
    let i = cursor < used ? cursor : 0;
    for (let n = Math.min(budget, used); n > 0; n--) {
      const value = this.valList[i];
      if (value !== undefined && dead(this.keyList[i]!, value)) this.evict(i);
      if (++i === used) i = 0;
    }
    return i;
  }

  /** oldestKey returns the key removeOldest would delete, or undefined when empty. */
  oldestKey(): string | undefined {
    return this.map.size === 0 ? undefined : this.keyList[this.tail];
  }

  /** clear drops every entry without calling onEvicted. */
  clear(): void {
    this.map.clear();
    this.keyList = [];
    this.valList = [];
    this.freeTop = 0;
    this.used = 0;
    this.head = 0;
    this.tail = 0;
    this.total = 0;
  }

  /** length is the number of entries. */
  get length(): number {
    return this.map.size;
  }

  /** bytes is the summed cost of all entries. */
  get bytes(): number {
    return this.total;
  }

  /** maxBytes is the budget given at construction; 0 means unlimited. */
  get maxBytes(): number {
    return this.limit;
  }

  /** keys yields keys from most to least recently used; do not mutate the LRU while iterating. */
  *keys(): IterableIterator<string> {
    let i = this.head;
    for (let n = this.map.size; n > 0; n--) {
      yield this.keyList[i]!;
      i = this.links[2 * i]!;
    }
  }

  private moveToHead(i: number): void {
    // Callers guarantee i is linked and not the head, so its prev is valid.
    const links = this.links;
    const p = links[2 * i + 1]!;
    if (i === this.tail) {
      this.tail = p;
    } else {
      const n = links[2 * i]!;
      links[2 * n + 1] = p;
      links[2 * p] = n;
    }
    links[2 * i] = this.head;
    links[2 * this.head + 1] = i;
    this.head = i;
  }

  // evictOldest is unlink + evict specialised for the tail, the budget's hot path.
  private evictOldest(): void {
    const i = this.tail;
    const key = this.keyList[i]!;
    const value = this.valList[i]!;
    this.map.delete(key);
    this.tail = this.links[2 * i + 1]!; // stale if i was the last entry, which is allowed
    this.total -= this.costs[2 * i]! + this.costs[2 * i + 1]!;
    this.keyList[i] = "";
    this.valList[i] = undefined;
    this.free[this.freeTop++] = i;
    if (this.onEvicted !== undefined) this.onEvicted(key, value);
  }

  private evict(i: number): void {
    const key = this.keyList[i]!;
    const value = this.valList[i]!;
    this.unlink(i);
    // Called last so the callback sees a consistent cache.
    if (this.onEvicted !== undefined) this.onEvicted(key, value);
  }

  private unlink(i: number): void {
    const links = this.links;
    this.map.delete(this.keyList[i]!);
    if (i === this.head) {
      this.head = links[2 * i]!;
    } else if (i === this.tail) {
      this.tail = links[2 * i + 1]!;
    } else {
      const p = links[2 * i + 1]!;
      const n = links[2 * i]!;
      links[2 * p] = n;
      links[2 * n + 1] = p;
    }
    this.total -= this.costs[2 * i]! + this.costs[2 * i + 1]!;
    this.keyList[i] = "";
    this.valList[i] = undefined;
    this.free[this.freeTop++] = i;
  }

  private alloc(): number {
    if (this.freeTop !== 0) return this.free[--this.freeTop]!;
    const i = this.used++;
    if (i === this.free.length) this.grow();
    return i;
  }

  private grow(): void {
    const cap = this.free.length * 2;
    this.costs = copyF64(this.costs, 2 * cap);
    this.links = copyU32(this.links, 2 * cap);
    this.free = copyU32(this.free, cap);
  }
}

function copyF64(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function copyU32(a: Uint32Array, cap: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}
