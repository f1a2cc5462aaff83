import { PROBATION, PROTECTED, WINDOW, WindowAdmission } from "./_admission.ts";
import type { ByteCache } from "./byte-cache.ts";
import { FrequencySketch, hashKey } from "./frequency-sketch.ts";
import type { LRUOptions, Sized } from "./lru.ts";
import { utf8Length } from "./utf8.ts";

/** TinyLFUOptions configures a TinyLFU: the same fields as LRUOptions. */
export type TinyLFUOptions<V extends Sized> = LRUOptions<V>;

export { TINYLFU_PROTECTED, TINYLFU_WINDOW } from "./_admission.ts";

// A slot's word above its list bits holds its pending hits: counted, not yet in the sketch (0-16).
// 16 pending hits take a key without counts as far as the sketch goes (15 + the doorkeeper).
const PENDING_ONE = 4;
const PENDING_FULL = 16 * PENDING_ONE;

/**
 * TinyLFU is a byte-budgeted W-TinyLFU cache. A new entry enters an LRU admission window (1% of
 * the budget); an entry pushed out of the window is a candidate for the main region, a segmented
 * LRU of probation (20%) and protected (80%), admitted only if its sketch frequency is greater
 * than the sum of the victims' it would displace (WindowAdmission, in _admission.ts); displaced
 * victims and dropped candidates leave through onEvicted.
 *
 * A hit is counted in the slot's own record (up to 16 pending), not in the sketch: the sketch's
 * cache line is touched when the entry leaves or before the counts halve, and an estimate is what
 * the sketch would say with the pending hits recorded, so admission sees the same counts at a
 * fraction of a hit's cost. Only a hit that finds fewer than 16 pending moves the sketch towards
 * its next halving (Caffeine too counts only increments that can add), so a hot key's hits cost
 * almost what an LRU's do.
 */
export class TinyLFU<V extends Sized> extends WindowAdmission<V> implements ByteCache<V> {
  // The sketch records a slot's pending hits before it halves, so no hit is lost to aging.
  private readonly sketch = new FrequencySketch(undefined, () => this.recordAll());
  private readonly onEvicted: ((key: string, value: V) => void) | undefined;

  constructor(options: TinyLFUOptions<V> = {}) {
    const { maxBytes = 0, onEvicted } = options;
    if (typeof maxBytes !== "number" || !Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`TinyLFU: maxBytes must be a finite integer >= 0 (0 = unlimited), got ${maxBytes}`);
    }
    if (onEvicted !== undefined && typeof onEvicted !== "function") {
      throw new TypeError(`TinyLFU: onEvicted must be a function (key, value) => void, got ${typeof onEvicted}`);
    }
    super(maxBytes);
    this.onEvicted = onEvicted;
  }

  /** get returns the value for key, counts the access and refreshes its recency (promoting out of probation). */
  get(key: string): V | undefined {
    const i = this.map.get(key);
    if (i === undefined) return undefined;
    // Inlined count(i): the hit is added to the slot's own pending count, in the record the hit
    // reads anyway; the sketch's cache line is touched only when the slot leaves or counts halve.
    const links = this.links;
    const m = links[4 * i + 3]!;
    if (m < PENDING_FULL) {
      links[4 * i + 3] = m + PENDING_ONE;
      this.sketch.tick();
    }
    const r = m & 3;
    if (r === PROBATION) this.promote(i);
    else if (this.links[4 * r] !== i) this.bump(i, r);
    return this.valList[i];
  }

  /** peek returns the value for key without counting an access. */
  peek(key: string): V | undefined {
    const i = this.map.get(key);
    return i === undefined ? undefined : this.valList[i];
  }

  /** has reports whether key is cached, without counting an access. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /**
   * add counts an access to key and inserts it into the window, or replaces its value in place (as
   * a hit), then restores the budget. It returns whether key is cached afterwards: false when the
   * entry alone costs more than maxBytes (nothing stored, an old entry for key dropped without
   * onEvicted, as LRU does) or when admission dropped it at once (through onEvicted).
   */
  add(key: string, value: V): boolean {
    const vb = value.length;
    if (!(vb >= 0)) throw new TypeError(`TinyLFU.add: value.length must be a number >= 0, got ${vb}`);
    const limit = this.limit;
    let i = this.map.get(key);
    if (i !== undefined) {
      if (limit > 0 && this.costs[2 * i]! + vb > limit) {
        this.record(i);
        this.unlink(i);
        return false;
      }
      const delta = vb - this.costs[2 * i + 1]!;
      this.costs[2 * i + 1] = vb;
      this.addBytes(this.listOf(i), delta);
      this.total += delta;
      this.valList[i] = value;
      this.count(i);
      this.touch(i);
    } else {
      const kb = utf8Length(key);
      if (limit > 0 && kb + vb > limit) return false;
      const h = hashKey(key);
      this.sketch.increment(h);
      i = this.insert(key, value, kb, h, WINDOW);
      if (this.map.size > this.sketch.capacity) this.sketch.ensureCapacity(this.map.size);
    }
    if (limit > 0) this.restoreBudget();
    // Restoring the budget only frees slots, so slot i still holds key unless key was dropped:
    // a look at the slot instead of a second Map lookup.
    return this.valList[i] !== undefined;
  }

  /** remove deletes key, calling onEvicted; it returns whether key was present. */
  remove(key: string): boolean {
    const i = this.map.get(key);
    if (i === undefined) return false;
    this.evict(i);
    return true;
  }

  /**
   * removeOldest evicts the next victim (probation's LRU end, then protected's, then the window's), calling onEvicted;
   * false when empty.
   */
  removeOldest(): boolean {
    if (this.map.size === 0) return false;
    this.evict(this.victim());
    return true;
  }

  /** oldestKey returns the key removeOldest would delete, or undefined when empty. */
  oldestKey(): string | undefined {
    return this.map.size === 0 ? undefined : this.keyList[this.victim()];
  }

  /** clear drops every entry and every count without calling onEvicted. */
  clear(): void {
    this.resetSlots();
    this.sketch.clear();
  }

  /** keys yields the window, protected and probation keys, each most recent first, so the next victim comes last. */
  *keys(): IterableIterator<string> {
    yield* this.listKeys(WINDOW);
    yield* this.listKeys(PROTECTED);
    yield* this.listKeys(PROBATION);
  }

  /** maxBytes is the budget given at construction; 0 means unlimited. */
  get maxBytes(): number {
    return this.limit;
  }

  /** evictions counts entries dropped to stay within maxBytes: displaced victims and refused candidates. */
  get evictions(): number {
    return this.evicted;
  }

  /** regions returns the bytes in the window, probation and protected segments. */
  regions(): { window: number; probation: number; protected: number } {
    const b = this.listBytes;
    return { window: b[WINDOW]!, probation: b[PROBATION]!, protected: b[PROTECTED]! };
  }

  protected evict(i: number): void {
    const key = this.keyList[i]!;
    const value = this.valList[i]!;
    this.record(i); // the sketch remembers the key's hits after it leaves
    this.unlink(i);
    if (this.onEvicted !== undefined) this.onEvicted(key, value);
  }

  // count records an access to slot i: one more pending hit (at most 16 wait: as many as the sketch can hold).
  private count(i: number): void {
    const m = this.links[4 * i + 3]!;
    if (m < PENDING_FULL) {
      this.links[4 * i + 3] = m + PENDING_ONE;
      this.sketch.tick();
    }
  }

  // frequency is slot i's estimate: the sketch's count as it will be once the slot's pending hits are recorded.
  protected frequency(i: number): number {
    return this.sketch.frequency(this.links[4 * i + 2]!, this.links[4 * i + 3]! >>> 2);
  }

  // record moves slot i's pending hits into the sketch.
  private record(i: number): void {
    const m = this.links[4 * i + 3]!;
    if (m < PENDING_ONE) return;
    this.sketch.record(this.links[4 * i + 2]!, m >>> 2);
    this.links[4 * i + 3] = m & 3;
  }

  /** saveSketch returns the admission sketch's counts, every pending hit recorded first (a snapshot). */
  saveSketch(): Uint8Array {
    this.recordAll();
    return this.sketch.save();
  }

  /** loadSketch takes back what saveSketch returned; false when the bytes are not a saved sketch. */
  loadSketch(bytes: Uint8Array): boolean {
    return this.sketch.load(bytes);
  }

  // recordAll moves every slot's pending hits into the sketch (before it halves).
  private recordAll(): void {
    const values = this.valList;
    for (let i = this.lists; i < this.used; i++) if (values[i] !== undefined) this.record(i);
  }
}
