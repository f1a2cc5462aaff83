import { describe, expect, test } from "bun:test";
import { FrequencySketch, hashKey } from "../src/core/frequency-sketch.ts";
import { mulberry32 } from "./helpers/prng.ts";

const hashOf = (key: string) => Bun.hash.murmur32v3(key) >>> 0;

/** seen returns a sketch that has counted hash h n times. */
function seen(h: number, n: number, capacity = 1024): FrequencySketch {
  const s = new FrequencySketch(capacity);
  for (let i = 0; i < n; i++) s.increment(h);
  return s;
}

describe("FrequencySketch", () => {
  test.each([
    { n: 0, want: 0 },
    { n: 1, want: 1 }, // the doorkeeper alone
    { n: 2, want: 2 },
    { n: 9, want: 9 },
    { n: 16, want: 16 }, // 1 in the doorkeeper + 15 in the counters
    { n: 17, want: 16 }, // counters stop at 15
    { n: 100, want: 16 },
  ])("a key counted $n times estimates $want", ({ n, want }) => {
    expect(seen(hashOf("k"), n).frequency(hashOf("k"))).toBe(want);
  });

  test("the doorkeeper absorbs a first occurrence: halving forgets it, while counted keys keep half", () => {
    const s = new FrequencySketch(1024);
    s.increment(hashOf("once"));
    for (let i = 0; i < 11; i++) s.increment(hashOf("often")); // door 1 + counters 10
    expect([s.frequency(hashOf("once")), s.frequency(hashOf("often"))]).toEqual([1, 11]);
    s.halve();
    expect([s.frequency(hashOf("once")), s.frequency(hashOf("often"))]).toEqual([0, 5]);
    s.increment(hashOf("once")); // back in the doorkeeper only
    expect(s.frequency(hashOf("once"))).toBe(1);
  });

  test("counts halve by themselves after sampleSize increments", () => {
    const s = new FrequencySketch(64);
    const hot = hashOf("hot");
    for (let i = 0; i < 16; i++) s.increment(hot);
    expect(s.frequency(hot)).toBe(16);
    const rest = s.sampleSize - 16;
    // Other keys fill the sample; the hot key's 15 counts become 7 (the doorkeeper is cleared).
    for (let i = 0; i < rest; i++) s.increment(hashOf(`cold${i % 5000}`));
    const after = s.frequency(hot);
    expect(after).toBeGreaterThanOrEqual(7);
    expect(after).toBeLessThanOrEqual(9); // 7, plus at most a little from collisions since the halving
  });

  test("ensureCapacity grows the table without losing counts", () => {
    const s = new FrequencySketch(64);
    const keys = Array.from({ length: 40 }, (_, i) => hashOf(`key${i}`));
    keys.forEach((h, i) => {
      for (let n = 0; n <= i % 12; n++) s.increment(h);
    });
    const before = keys.map((h) => s.frequency(h));
    s.ensureCapacity(5000);
    expect(s.capacity).toBe(8192);
    expect(keys.map((h) => s.frequency(h))).toEqual(before);
  });

  test.each([1, 2, 3])("record(h, n) leaves every count as n increments of h would (seeded batches %#)", (seed) => {
    const r = mulberry32(seed);
    const one = new FrequencySketch(1024);
    const batched = new FrequencySketch(1024);
    // 300 keys share 128 blocks, so counters collide; ~14,000 increments stay below the sample (no halving).
    const keys = Array.from({ length: 300 }, (_, i) => hashOf(`key${i}`));
    for (let step = 0; step < 1500; step++) {
      const h = keys[Math.floor(r() * keys.length)]!;
      const n = Math.floor(r() * 20); // 0 to 19: past the counters' 15 too
      for (let i = 0; i < n; i++) one.increment(h);
      batched.record(h, n);
    }
    expect(keys.map((h) => batched.frequency(h))).toEqual(keys.map((h) => one.frequency(h)));
    expect(keys.filter((h) => one.frequency(h) === 16).length).toBeGreaterThan(0); // some reached the top
  });

  test.each([4, 5, 6])(
    "frequency(h, n) is what the sketch says after record(h, n), across halvings (seeded %#)",
    (seed) => {
      const r = mulberry32(seed);
      const a = new FrequencySketch(64);
      const b = new FrequencySketch(64);
      const keys = Array.from({ length: 200 }, (_, i) => hashOf(`key${i}`));
      const seen = { zeroDoor: 0, capped: 0 };
      for (let step = 0; step < 6000; step++) {
        const h = keys[Math.floor(r() * keys.length)]!;
        if (r() < 0.5) {
          a.increment(h), b.increment(h); // counts towards halving: both halve together
          continue;
        }
        const n = Math.floor(r() * 20);
        if (a.frequency(h) === 0) seen.zeroDoor++;
        const predicted = a.frequency(h, n);
        if (predicted === 16) seen.capped++;
        b.record(h, n);
        expect(b.frequency(h)).toBe(predicted);
        a.record(h, n);
      }
      // The trace reached both edge cases: no counts and no doorkeeper bit, and the top.
      expect(seen.zeroDoor).toBeGreaterThan(10);
      expect(seen.capped).toBeGreaterThan(10);
    },
  );

  test("record does not count towards halving; tick does, and beforeHalve runs first", () => {
    const calls: number[] = [];
    const s = new FrequencySketch(64, () => calls.push(s.frequency(hashOf("k"))));
    s.record(hashOf("k"), 9);
    for (let i = 0; i < 10 * s.sampleSize; i++) s.record(hashOf(`other${i % 50}`), 1);
    expect({ calls, k: s.frequency(hashOf("k")) }).toEqual({ calls: [], k: 9 });
    for (let i = 0; i < s.sampleSize; i++) s.tick();
    // beforeHalve saw the counts before the halving; the doorkeeper's 1 is gone after it and 8 counts became 4.
    expect({ calls, k: s.frequency(hashOf("k")) }).toEqual({ calls: [9], k: 4 });
    expect(() => new FrequencySketch(64, 5 as never)).toThrow(TypeError);
  });

  test("clear forgets every count", () => {
    const s = seen(hashOf("k"), 5);
    s.clear();
    expect(s.frequency(hashOf("k"))).toBe(0);
  });

  test("rejects a bad capacity", () => {
    expect(() => new FrequencySketch(-1)).toThrow(RangeError);
    expect(() => new FrequencySketch(1.5)).toThrow(RangeError);
  });

  test.each([1, 2, 3])("seeded Zipf-like stream %#: never undercounts, overcounts little", (seed) => {
    const r = mulberry32(seed);
    const capacity = 1024;
    const s = new FrequencySketch(capacity);
    const exact = new Map<number, number>();
    // 4,000 distinct keys (4 x capacity), skewed, fewer increments than the sample so no halving.
    const n = Math.floor(s.sampleSize * 0.9);
    for (let i = 0; i < n; i++) {
      const h = hashOf(`key${Math.floor(4000 * r() ** 3)}`);
      s.increment(h);
      exact.set(h, (exact.get(h) ?? 0) + 1);
    }
    let under = 0;
    let over = 0;
    let big = 0;
    for (const [h, c] of exact) {
      const err = s.frequency(h) - Math.min(c, 16);
      if (err < 0) under++;
      over += err;
      if (err > 2) big++;
    }
    expect({
      under,
      meanOverBelow015: over / exact.size < 0.15,
      bigErrorsUnder1Percent: big / exact.size < 0.01,
    }).toEqual({
      under: 0,
      meanOverBelow015: true,
      bigErrorsUnder1Percent: true,
    });
  });
});

describe("FrequencySketch save and load", () => {
  test("load takes back the counts, into a sketch of the same or a smaller capacity (it grows); junk is refused", () => {
    const a = new FrequencySketch(1024);
    const hashes = Array.from({ length: 300 }, (_, i) => hashKey(`k${i}`));
    hashes.forEach((h, i) => {
      for (let n = 0; n < i % 7; n++) a.increment(h);
    });
    const saved = a.save();
    const same = new FrequencySketch(1024);
    const smaller = new FrequencySketch(64);
    expect([same.load(saved), smaller.load(saved), new FrequencySketch(64).load(saved.subarray(0, 20))]).toEqual([
      true,
      true,
      false,
    ]);
    const want = hashes.map((h) => a.frequency(h));
    expect({ same: hashes.map((h) => same.frequency(h)), smaller: hashes.map((h) => smaller.frequency(h)) }).toEqual({
      same: want,
      smaller: want,
    });
    expect(want.some((f) => f > 0)).toBe(true);
  });
});
