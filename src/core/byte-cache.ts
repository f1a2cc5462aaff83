import type { Sized } from "./lru.ts";

/**
 * ByteCache is what a byte-budgeted cache policy offers (LRU and TinyLFU): an entry costs its key's
 * UTF-8 length plus its value's `length`, measured once by `add`.
 */
export interface ByteCache<V extends Sized> {
  /** get returns the value for key and records the access. */
  get(key: string): V | undefined;
  /** peek returns the value for key without recording an access. */
  peek(key: string): V | undefined;
  /** has reports whether key is cached, without recording an access. */
  has(key: string): boolean;
  /** add inserts or replaces key; false when the entry is not kept. */
  add(key: string, value: V): boolean;
  /** remove deletes key, calling onEvicted; it returns whether key was present. */
  remove(key: string): boolean;
  /** removeOldest deletes the entry the policy would evict next, calling onEvicted; false when empty. */
  removeOldest(): boolean;
  /** oldestKey returns the key removeOldest would delete. */
  oldestKey(): string | undefined;
  /**
   * sweep removes entries for which dead(key, value) holds, visiting at most budget slots from cursor; it returns the
   * next cursor.
   */
  sweep(cursor: number, budget: number, dead: (key: string, value: V) => boolean): number;
  /** saveSketch and loadSketch carry a policy's admission counts across a restart (W-TinyLFU has them). */
  saveSketch?(): Uint8Array;
  loadSketch?(bytes: Uint8Array): boolean;
  /** clear drops every entry without calling onEvicted. */
  clear(): void;
  /** keys yields every key, the next victim last. */
  keys(): IterableIterator<string>;
  /** length is the number of entries. */
  readonly length: number;
  /** bytes is the summed cost of all entries. */
  readonly bytes: number;
  /** maxBytes is the budget; 0 means unlimited. */
  readonly maxBytes: number;
  /** evictions counts entries the policy itself dropped to stay within maxBytes (undefined when it does not count). */
  readonly evictions?: number;
}
