import { LRU } from "../../core/lru.ts";

/** SLOTS is how many version slots key writes are spread over (a power of two). */
export const SLOTS = 4096;

/**
 * slotOf is a key's version slot: a write of the key (in any group) bumps it, and every copy of a key in the slot is
 * then checked again with the main thread.
 */
export function slotOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (SLOTS - 1);
}

/** Copy is a value a worker answers by itself, as the main thread answered it, while its versions hold. */
export class Copy {
  constructor(
    readonly body: Uint8Array,
    readonly headers: Headers,
    readonly group: string,
    readonly slot: number,
    readonly version: number,
    readonly epoch: number,
    readonly expiresAt: number,
  ) {}
  get length(): number {
    return this.body.length;
  }
}

/**
 * Copies are a worker's copies of values its node serves from the main cache, keyed by request URL and bounded in
 * bytes (least recently used first out). A copy is served only while its key's slot version and the ring's epoch are
 * those it was read at, and its value has not expired: a write, a remove, a purge or a ring change on the main thread
 * bumps them before it answers, so every worker sees it before any later request.
 */
export class Copies {
  readonly #lru: LRU<Copy>;
  readonly #versions: Int32Array;

  /** maxBytes > 0 bounds the copies' bytes (keys and values). */
  constructor(versions: SharedArrayBuffer, maxBytes: number) {
    this.#versions = new Int32Array(versions);
    this.#lru = new LRU<Copy>({ maxBytes });
  }

  /** get returns the live copy kept for url, or undefined (a stale one is dropped). */
  get(url: string, now: () => number): Copy | undefined {
    const c = this.#lru.get(url);
    if (c === undefined) return undefined;
    const v = this.#versions;
    if (
      Atomics.load(v, 1 + c.slot) === c.version &&
      Atomics.load(v, 0) === c.epoch &&
      (c.expiresAt === 0 || now() < c.expiresAt)
    )
      return c;
    this.#lru.remove(url);
    return undefined;
  }

  /** keep stores a copy for url; the least recently used leave until the copies fit. */
  keep(url: string, copy: Copy): void {
    this.#lru.add(url, copy);
  }

  get bytes(): number {
    return this.#lru.bytes;
  }
}
