import { describe, expect, test } from "bun:test";
import { LRU } from "../src/core/lru.ts";
import { TinyLFU } from "../src/core/tinylfu.ts";
import { mulberry32 } from "./helpers/prng.ts";

type Evicted = [key: string, value: string];

/** tiny builds a string-valued TinyLFU that logs every onEvicted call into the returned array. */
function tiny(maxBytes?: number): { c: TinyLFU<string>; evicted: Evicted[] } {
  const evicted: Evicted[] = [];
  const c = new TinyLFU<string>({ maxBytes, onEvicted: (k, v) => evicted.push([k, v]) });
  return { c, evicted };
}

/** cost is what an entry is charged: UTF-8 key bytes + value length. */
const cost = (k: string, v: string) => Buffer.byteLength(k) + v.length;

/** audit recomputes the bytes from the entries and checks every figure the cache reports against them. */
function audit(c: TinyLFU<string>) {
  const keys = [...c.keys()];
  const bytes = keys.reduce((n, k) => n + cost(k, c.peek(k)!), 0);
  const r = c.regions();
  return {
    keysUnique: new Set(keys).size === keys.length,
    length: c.length === keys.length,
    bytes: c.bytes === bytes,
    regions: r.window + r.probation + r.protected === bytes,
    withinBudget: c.maxBytes === 0 || bytes <= c.maxBytes,
  };
}
const AUDIT_OK = { keysUnique: true, length: true, bytes: true, regions: true, withinBudget: true };

describe("TinyLFU", () => {
  test("get, peek and has on a hit and a miss", () => {
    const { c } = tiny(1000);
    expect(c.add("a", "1")).toBe(true);
    expect({ get: c.get("a"), peek: c.peek("a"), has: c.has("a") }).toEqual({ get: "1", peek: "1", has: true });
    expect({ get: c.get("b"), peek: c.peek("b"), has: c.has("b") }).toEqual({
      get: undefined,
      peek: undefined,
      has: false,
    });
  });

  test.each<{ name: string; max?: number; ops: (c: TinyLFU<string>) => unknown; want: unknown }>([
    {
      name: "replace keeps one entry and charges the new size",
      max: 1000,
      ops: (c) => (c.add("a", "xx"), c.add("a", "yyyy"), [c.peek("a"), c.bytes, c.length]),
      want: ["yyyy", 5, 1],
    },
    {
      name: "an entry bigger than the budget is refused",
      max: 10,
      ops: (c) => [c.add("big", "12345678"), c.length, c.bytes],
      want: [false, 0, 0],
    },
    {
      name: "a replacement bigger than the budget drops the old value",
      max: 10,
      ops: (c) => [c.add("a", "1"), c.add("a", "1234567890"), c.has("a"), c.bytes],
      want: [true, false, false, 0],
    },
    {
      name: "remove reports presence",
      max: 1000,
      ops: (c) => (c.add("a", "1"), [c.remove("a"), c.remove("a"), c.length]),
      want: [true, false, 0],
    },
    { name: "multi-byte keys are charged in UTF-8", max: 1000, ops: (c) => (c.add("é😀", "v"), c.bytes), want: 7 },
    {
      name: "unlimited keeps everything",
      max: 0,
      ops: (c) => (Array.from({ length: 500 }, (_, i) => c.add(`k${i}`, "v")), c.length),
      want: 500,
    },
  ])("$name", ({ max, ops, want }) => {
    const { c } = tiny(max);
    expect(ops(c)).toEqual(want);
    expect(audit(c)).toEqual(AUDIT_OK);
  });

  test("onEvicted: called by remove, not by a replace or clear", () => {
    const { c, evicted } = tiny(1000);
    c.add("a", "1");
    c.add("a", "2");
    c.add("b", "3");
    c.remove("a");
    c.clear();
    expect({ evicted, length: c.length, bytes: c.bytes }).toEqual({ evicted: [["a", "2"]], length: 0, bytes: 0 });
  });

  test("a hit in probation promotes to protected; the window holds the newest", () => {
    // Budget 1000: window 10 bytes, protected 792. Entries of 100 bytes leave the window at once.
    const { c } = tiny(1000);
    for (const k of "abcde") c.add(k, "v".repeat(99));
    expect(c.regions()).toEqual({ window: 0, probation: 500, protected: 0 });
    c.get("b");
    expect(c.regions()).toEqual({ window: 0, probation: 400, protected: 100 });
    expect([...c.keys()]).toEqual(["b", "e", "d", "c", "a"]);
    expect(c.oldestKey()).toBe("a");
  });

  test("admission compares a candidate with the sum of the victims it would displace", () => {
    // Ten 100-byte entries fill the budget, each counted once. "Z" costs 200, so it needs two
    // victims (a and b, frequency 1 each): it must be counted 3 times to beat their sum of 2.
    const { c, evicted } = tiny(1000);
    for (const k of "abcdefghij") c.add(k, "v".repeat(99));
    const big = "z".repeat(199);
    const kept = [c.add("Z", big), c.add("Z", big), c.add("Z", big)];
    expect({ kept, evicted, evictions: c.evictions }).toEqual({
      kept: [false, false, true],
      evicted: [
        ["Z", big],
        ["Z", big],
        ["a", "v".repeat(99)],
        ["b", "v".repeat(99)],
      ],
      evictions: 4,
    });
    expect(audit(c)).toEqual(AUDIT_OK);
  });

  test.each([
    { hits: 0, leave: "remove", kept: false }, // counted twice (two adds): ties with its victim, which stays
    { hits: 4, leave: "remove", kept: true }, // its hits were pending in its slot and reached the sketch when it left
    { hits: 4, leave: "too big", kept: true }, // replaced by a value over the budget: dropped, its hits kept
  ])(
    "a key's hits while cached count after it leaves ($leave): $hits hits, re-admitted $kept",
    ({ hits, leave, kept }) => {
      const { c } = tiny(1000);
      c.add("Z", "v".repeat(99));
      for (let i = 0; i < hits; i++) c.get("Z");
      if (leave === "remove") c.remove("Z");
      else expect(c.add("Z", "v".repeat(1000))).toBe(false);
      expect(c.has("Z")).toBe(false);
      for (const k of "abcdefghij") c.add(k, "v".repeat(99));
      for (const k of "abcdefghij") c.add(k, "v".repeat(99)); // each counted twice, like Z's two adds
      expect({ admitted: c.add("Z", "v".repeat(99)), left: c.length }).toEqual({ admitted: kept, left: 10 });
      expect(audit(c)).toEqual(AUDIT_OK);
    },
  );

  test.each([
    // 15 hits, halved to 7 with the doorkeeper cleared, then 9 pending: 7 + 9 tops out at 15 without
    // the doorkeeper, so a candidate counted 16 wins; a plain sum of 7 + 9 would call it 16 and keep V.
    { before: 15, after: 9, short: 0, c: 16, admitted: true },
    // One hit (halved to 0, the doorkeeper cleared), then 16 pending: 1 in the doorkeeper + 15 = 16, a tie.
    { before: 1, after: 16, short: 0, c: 16, admitted: false },
    // 8 hits, recorded and halved to 4: they are not pending any more, so a candidate counted 6 wins.
    { before: 8, after: 0, short: 0, c: 6, admitted: true },
    // 40 hits, of which only the first 16 count towards halving: the loop stops short of it by C's 17
    // counted events and one more, so nothing halves (16, a tie); had all 40 counted, V would have halved.
    { before: 40, after: 0, short: 18, c: 16, admitted: false },
  ])(
    "pending hits and halving: $before hits, halving, $after hits; candidate counted $c",
    ({ before, after, short, c: cCount, admitted }) => {
      const { c } = tiny(1000);
      c.add("V", "v".repeat(99));
      for (let i = 0; i < before; i++) c.get("V");
      // A second key F is counted until the sketch halves: 1,280 counted events for its first
      // capacity of 64 keys. An add counts, and so does a hit while fewer than 16 are pending.
      let counted = 1 + Math.min(before, 16);
      let pending = -1; // F absent
      while (counted < 64 * 20 - short) {
        if (pending < 0) c.add("F", "f"), (pending = 0);
        else if (pending < 16) c.get("F"), pending++;
        else {
          c.remove("F"), (pending = -1);
          continue;
        }
        counted++;
      }
      c.remove("F");
      for (let i = 0; i < after; i++) c.get("V");
      // C is counted cCount times (the doorkeeper + the rest) and leaves; back too big to fit beside V, it must
      // displace V.
      c.add("C", "x");
      for (let i = 1; i < cCount; i++) c.get("C");
      c.remove("C");
      const kept = c.add("C", "x".repeat(901));
      expect({ kept, keys: [...c.keys()] }).toEqual({ kept: admitted, keys: admitted ? ["C"] : ["V"] });
      expect(audit(c)).toEqual(AUDIT_OK);
    },
  );

  test("a scan does not flush a hot set still in use (LRU loses it)", () => {
    const budget = 100 * 10; // a hundred 10-byte entries
    const hot = Array.from({ length: 50 }, (_, i) => `hot${String(i).padStart(3, "0")}`); // 6 + 4 bytes
    const misses = (c: { get(k: string): string | undefined; add(k: string, v: string): boolean }) => {
      for (let round = 0; round < 5; round++) for (const k of hot) if (c.get(k) === undefined) c.add(k, "vvvv");
      let n = 0;
      // 10,000 keys seen once each, with one hot key asked after every ten of them.
      for (let i = 0; i < 10_000; i++) {
        const k = `s${String(i).padStart(5, "0")}`;
        if (c.get(k) === undefined) c.add(k, "vvvv");
        if (i % 10 === 9) {
          const h = hot[((i / 10) % 50) | 0]!;
          if (c.get(h) === undefined) n++, c.add(h, "vvvv");
        }
      }
      return { hotMisses: n, hotLeft: hot.filter((k) => c.get(k) !== undefined).length };
    };
    expect({
      tinylfu: misses(new TinyLFU<string>({ maxBytes: budget })),
      lru: misses(new LRU<string>({ maxBytes: budget })),
    }).toEqual({ tinylfu: { hotMisses: 0, hotLeft: 50 }, lru: { hotMisses: 995, hotLeft: 10 } });
  });

  test.each([1, 2, 3, 4])(
    "seeded mixed ops %#: exact bytes, never over budget, onEvicted for every entry that left",
    (seed) => {
      const r = mulberry32(seed);
      const budget = 200 + Math.floor(r() * 2000);
      const present = new Map<string, string>(); // what the callbacks and return values say is cached
      const c = new TinyLFU<string>({
        maxBytes: budget,
        onEvicted: (k, v) => {
          expect(present.get(k)).toBe(v);
          present.delete(k);
        },
      });
      const keys = Array.from({ length: 150 }, (_, i) => (i % 7 === 0 ? `ключ${i}` : `k${i}`));
      for (let op = 0; op < 5000; op++) {
        const k = keys[Math.floor(keys.length * r() ** 2)]!;
        const x = r();
        if (x < 0.45) {
          const v = "v".repeat(Math.floor(r() * r() * 120));
          present.set(k, v); // before add: admission may drop it at once, through onEvicted
          const kept = c.add(k, v);
          expect(kept).toBe(present.has(k));
          if (present.has(k) && !c.has(k)) {
            // Only an entry bigger than the whole budget leaves without onEvicted, as in LRU.
            expect(Buffer.byteLength(k) + v.length).toBeGreaterThan(budget);
            present.delete(k);
          }
        } else if (x < 0.85) {
          expect(c.get(k)).toBe(present.get(k));
        } else if (x < 0.95) {
          const had = present.has(k); // onEvicted deletes it during remove
          expect(c.remove(k)).toBe(had);
        } else if (x < 0.97) {
          c.removeOldest();
        } else {
          c.sweep(Math.floor(r() * 200), 20, (key) => key.length % 2 === 0);
        }
        expect(c.bytes).toBeLessThanOrEqual(budget);
      }
      expect(audit(c)).toEqual(AUDIT_OK);
      expect(new Set(c.keys())).toEqual(new Set(present.keys()));
    },
  );

  test("sweep removes dead entries through onEvicted and walks on from its cursor", () => {
    const { c, evicted } = tiny(0);
    for (let i = 0; i < 10; i++) c.add(`k${i}`, i % 2 ? "odd" : "even");
    let cursor = 0;
    for (let n = 0; n < 4; n++) cursor = c.sweep(cursor, 4, (_k, v) => v === "odd");
    expect({ left: c.length, evicted: evicted.length, audit: audit(c) }).toEqual({
      left: 5,
      evicted: 5,
      audit: AUDIT_OK,
    });
  });

  test.each([
    { options: { maxBytes: -1 }, error: RangeError },
    { options: { maxBytes: 1.5 }, error: RangeError },
    { options: { onEvicted: 5 as never }, error: TypeError },
  ])("rejects bad options %#", ({ options, error }) => {
    expect(() => new TinyLFU<string>(options)).toThrow(error);
  });
});
