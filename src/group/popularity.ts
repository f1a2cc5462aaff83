/**
 * Popularity and the hot-cache choice. The owner of a key measures how often it is asked for it
 * and sends that rate with each peer answer (`minute_qps`); a node that fetched the value keeps a
 * hot copy when the rate reaches its threshold, and tosses groupcache's coin when the owner sent
 * no rate (Go GeeCache and groupcache peers).
 */

/** POPULARITY_TAU_MS is the time constant of the decayed count: a minute, as `minute_qps` says. */
export const POPULARITY_TAU_MS = 60_000;
/**
 * POPULARITY_MIN_WINDOW_MS is the shortest time a rate is averaged over, so that two requests in a row do not read as a
 * burst.
 */
export const POPULARITY_MIN_WINDOW_MS = 1000;
/**
 * POPULARITY_KEYS is how many keys a group measures at most; a new key then displaces the least asked of a small
 * sample.
 */
export const POPULARITY_KEYS = 8192;

const SAMPLE = 8; // slots looked at to find a key to displace

/**
 * Popularity keeps an exponentially decayed request count per key and reads it as requests per
 * second. The first request of a key only starts its clock (a key asked once reads 0), and a key
 * first seen less than a minute ago is averaged over its age (at least POPULARITY_MIN_WINDOW_MS),
 * so a new key's rate is right at once instead of creeping up over a minute. Slots live in typed
 * arrays; memory grows with the keys seen, up to `capacity`.
 */
export class Popularity {
  readonly #now: () => number;
  readonly #capacity: number;
  readonly #slots = new Map<string, number>(); // key -> slot
  #keys: string[] = []; // slot -> key
  #count = new Float64Array(16); // decayed count at #at
  #at = new Float64Array(16); // ms of the slot's last request
  #since = new Float64Array(16); // ms the slot's key was first seen
  #cursor = 0; // where the next sample for a key to displace starts

  constructor(now: () => number, capacity = POPULARITY_KEYS) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`Popularity capacity must be a whole number >= 1, got ${capacity}`);
    this.#now = now;
    this.#capacity = capacity;
  }

  /** size is the number of keys measured now. */
  get size(): number {
    return this.#slots.size;
  }

  /** record counts one request for key now (an owner's API get: nobody needs the rate yet). */
  record(key: string): void {
    this.#count1(key, this.#now());
  }

  /**
   * recordRate counts one request for key now and returns its rate in requests per second, this request included (a
   * peer's get).
   */
  recordRate(key: string): number {
    const now = this.#now();
    const slot = this.#count1(key, now);
    return rateOf(this.#count[slot]!, now - this.#since[slot]!);
  }

  /** #count1 adds one request at now to key's decayed count and returns its slot. */
  #count1(key: string, now: number): number {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#slotFor(key, now);
      this.#count[slot] = 1;
    } else {
      const dt = now - this.#at[slot]!;
      this.#count[slot] = (dt > 0 ? this.#count[slot]! * Math.exp(-dt / POPULARITY_TAU_MS) : this.#count[slot]!) + 1;
    }
    this.#at[slot] = now;
    return slot;
  }

  /** rate returns key's rate in requests per second without counting a request (0 for a key not measured). */
  rate(key: string): number {
    const slot = this.#slots.get(key);
    if (slot === undefined) return 0;
    const now = this.#now();
    const dt = Math.max(0, now - this.#at[slot]!);
    return rateOf(this.#count[slot]! * Math.exp(-dt / POPULARITY_TAU_MS), now - this.#since[slot]!);
  }

  /** #slotFor gives key a slot: a free one, or the one of the least asked key of a sample, which it displaces. */
  #slotFor(key: string, now: number): number {
    let slot = this.#keys.length;
    if (slot < this.#capacity) {
      if (slot === this.#count.length) this.#grow();
      this.#keys.push(key);
    } else {
      slot = this.#victim(now);
      this.#slots.delete(this.#keys[slot]!);
      this.#keys[slot] = key;
    }
    this.#slots.set(key, slot);
    this.#since[slot] = now;
    return slot;
  }

  /** #victim is the slot, among SAMPLE from the cursor on, whose count has decayed lowest by now. */
  #victim(now: number): number {
    let best = this.#cursor;
    let lowest = Infinity;
    for (let i = 0; i < SAMPLE; i++) {
      const s = (this.#cursor + i) % this.#capacity;
      const c = this.#count[s]! * Math.exp(-(now - this.#at[s]!) / POPULARITY_TAU_MS);
      if (c < lowest) {
        lowest = c;
        best = s;
      }
    }
    this.#cursor = (this.#cursor + SAMPLE) % this.#capacity;
    return best;
  }

  #grow(): void {
    const n = Math.min(this.#capacity, this.#count.length * 2);
    const grown = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.#count = grown(this.#count);
    this.#at = grown(this.#at);
    this.#since = grown(this.#since);
  }
}

/**
 * rateOf reads a decayed count (as of now) of a key first seen age ms ago as requests per second:
 * averaged over the time constant, or over the key's age while that is shorter.
 */
function rateOf(count: number, age: number): number {
  // The first request at weight e^(−age/tau), then a steady rate r, fill the count to
  // e^(−age/tau) + r·tau·(1 − e^(−age/tau)): take the first out and divide the rest back.
  const after = Math.max(0, count - Math.exp(-age / POPULARITY_TAU_MS));
  return (after * 1000) / Math.max(POPULARITY_TAU_MS * -Math.expm1(-age / POPULARITY_TAU_MS), POPULARITY_MIN_WINDOW_MS);
}

/**
 * hotChoice returns the test a non-owner applies to a value it fetched: keep a hot copy iff the
 * owner's reported rate is at least hotQps, or, when the owner reported none (or hotQps is 0), with
 * probability hotRatio (groupcache's one in ten). hotRatio 0 turns the hot cache off altogether.
 */
export function hotChoice(
  hotQps: number,
  hotRatio: number,
  random: () => number,
): (minuteQps: number | undefined) => boolean {
  if (hotRatio <= 0) return () => false;
  const coin = () => random() < hotRatio;
  if (hotQps <= 0) return coin;
  return (minuteQps) => (minuteQps === undefined ? coin() : minuteQps >= hotQps);
}
