import type { Sized } from "./lru.ts";

const INITIAL_CAPACITY = 64;

/**
 * SlotLists is the storage under TinyLFU: each entry lives in a slot of parallel typed arrays (no
 * per-entry object) and hangs on one of `lists` circular doubly-linked lists, whose sentinels are
 * slots 0..lists-1 so linking never branches on emptiness. Head = next of the sentinel = most
 * recent. It keeps the summed cost per list and overall; subclasses decide what moves where.
 */
export abstract class SlotLists<V extends Sized> {
  protected readonly map = new Map<string, number>(); // key -> slot
  protected keyList: string[] = []; // "" in free slots and sentinels
  protected valList: (V | undefined)[] = []; // undefined in free slots and sentinels
  protected costs = new Float64Array(2 * INITIAL_CAPACITY); // [2i] key bytes, [2i+1] value bytes
  // One 16-byte record per slot, so a hit reads one cache line of metadata: [4i] next (older),
  // [4i+1] prev (newer), [4i+2] the key's hash (a hit does not rehash), [4i+3] the list the slot
  // is on in bits 0-1 and a word for the subclass above them (0 in a new entry).
  protected links = new Int32Array(4 * INITIAL_CAPACITY);
  protected free = new Uint32Array(INITIAL_CAPACITY); // stack of vacated slots
  protected freeTop = 0;
  protected used: number; // slots handed out since the last reset, sentinels included
  protected readonly listBytes: Float64Array; // summed cost per list
  protected total = 0; // summed cost over all lists

  constructor(protected readonly lists: number) {
    this.used = lists;
    this.listBytes = new Float64Array(lists);
    this.resetSlots();
  }

  /** evict removes slot i and tells the owner's onEvicted. */
  protected abstract evict(i: number): void;

  /**
   * sweep walks at most budget slots from cursor, evicting the entries dead(key, value) marks, and returns the cursor
   * to pass next time (past the end starts over).
   */
  sweep(cursor: number, budget: number, dead: (key: string, value: V) => boolean): number {
    if (!Number.isInteger(cursor) || cursor < 0)
      throw new RangeError(`sweep: cursor must be an integer >= 0 returned by sweep, got ${cursor}`);
    if (!Number.isInteger(budget) || budget < 0)
      throw new RangeError(`sweep: budget must be an integer >= 0, got ${budget}`);
    const used = this.used;
    if (used === this.lists) return 0;
    let i = cursor < used ? cursor : 0;
    for (let n = Math.min(budget, used); n > 0; n--) {
      const value = this.valList[i]; // undefined for sentinels and free slots
      if (value !== undefined && dead(this.keyList[i]!, value)) this.evict(i);
      if (++i === used) i = 0;
    }
    return i;
  }

  /** length is the number of entries. */
  get length(): number {
    return this.map.size;
  }

  /** bytes is the summed cost of all entries. */
  get bytes(): number {
    return this.total;
  }

  protected *listKeys(s: number): IterableIterator<string> {
    for (let i = this.links[4 * s]!; i !== s; i = this.links[4 * i]!) yield this.keyList[i]!;
  }

  /** listOf returns the list slot i is on. */
  protected listOf(i: number): number {
    return this.links[4 * i + 3]! & 3;
  }

  protected cost(i: number): number {
    return this.costs[2 * i]! + this.costs[2 * i + 1]!;
  }

  protected addBytes(s: number, d: number): void {
    this.listBytes[s] = this.listBytes[s]! + d;
  }

  /** insert stores a new entry in a fresh slot at the front of list s and returns the slot. */
  protected insert(key: string, value: V, keyBytes: number, hash: number, s: number): number {
    const i = this.alloc(); // may grow the typed arrays, so they are re-read from this below
    this.keyList[i] = key;
    this.valList[i] = value;
    this.costs[2 * i] = keyBytes;
    this.costs[2 * i + 1] = value.length;
    this.links[4 * i + 2] = hash;
    this.links[4 * i + 3] = 0;
    this.linkFront(i, s);
    this.addBytes(s, keyBytes + value.length);
    this.total += keyBytes + value.length;
    this.map.set(key, i);
    return i;
  }

  /** unlink takes slot i off its list and frees it, without telling anyone. */
  protected unlink(i: number): void {
    const links = this.links;
    const n = links[4 * i]!;
    const p = links[4 * i + 1]!;
    links[4 * p] = n;
    links[4 * n + 1] = p;
    this.map.delete(this.keyList[i]!);
    const cost = this.cost(i);
    this.addBytes(links[4 * i + 3]! & 3, -cost);
    this.total -= cost;
    this.keyList[i] = "";
    this.valList[i] = undefined;
    this.free[this.freeTop++] = i;
  }

  /** bump moves slot i, which is on list s, to the front of s: the hit path, so nothing else. */
  protected bump(i: number, s: number): void {
    const links = this.links;
    const n = links[4 * i]!;
    const p = links[4 * i + 1]!;
    links[4 * p] = n;
    links[4 * n + 1] = p;
    const h = links[4 * s]!;
    links[4 * i] = h;
    links[4 * i + 1] = s;
    links[4 * h + 1] = i;
    links[4 * s] = i;
  }

  /** moveFront moves slot i to the front of list s, carrying its cost over. */
  protected moveFront(i: number, s: number): void {
    const links = this.links;
    const n = links[4 * i]!;
    const p = links[4 * i + 1]!;
    links[4 * p] = n;
    links[4 * n + 1] = p;
    const r = links[4 * i + 3]! & 3;
    if (r !== s) {
      const c = this.cost(i);
      this.addBytes(r, -c);
      this.addBytes(s, c);
    }
    this.linkFront(i, s);
  }

  private linkFront(i: number, s: number): void {
    const links = this.links;
    const h = links[4 * s]!;
    links[4 * i] = h;
    links[4 * i + 1] = s;
    links[4 * h + 1] = i;
    links[4 * s] = i;
    links[4 * i + 3] = (links[4 * i + 3]! & ~3) | s;
  }

  /** resetSlots empties every list and frees every slot. */
  protected resetSlots(): void {
    this.map.clear();
    this.keyList = Array.from({ length: this.lists }, () => "");
    this.valList = Array.from({ length: this.lists }, () => undefined);
    for (let s = 0; s < this.lists; s++) this.links[4 * s] = this.links[4 * s + 1] = s;
    this.listBytes.fill(0);
    this.total = 0;
    this.freeTop = 0;
    this.used = this.lists;
  }

  private alloc(): number {
    if (this.freeTop !== 0) return this.free[--this.freeTop]!;
    const i = this.used++;
    if (i === this.free.length) this.grow();
    return i;
  }

  private grow(): void {
    const cap = this.free.length * 2;
    const grown = <T extends Float64Array | Int32Array | Uint32Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a as never);
      return b;
    };
    this.costs = grown(this.costs, 2 * cap);
    this.links = grown(this.links, 4 * cap);
    this.free = grown(this.free, cap);
  }
}
