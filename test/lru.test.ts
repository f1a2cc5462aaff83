import { describe, expect, test } from "bun:test";
import { LRU, type LRUOptions } from "../src/core/lru.ts";
import { mulberry32 } from "./helpers/prng.ts";

type Evicted = [key: string, value: string];

/** lru builds a string-valued LRU that logs every onEvicted call into the returned array. */
function lru(maxBytes?: number): { c: LRU<string>; evicted: Evicted[] } {
  const evicted: Evicted[] = [];
  const c = new LRU<string>({ maxBytes, onEvicted: (k, v) => evicted.push([k, v]) });
  return { c, evicted };
}

/** state is a whole-object snapshot of what the cache exposes. */
function state(c: LRU<string>) {
  return { keys: [...c.keys()], length: c.length, bytes: c.bytes, oldest: c.oldestKey() };
}

describe("LRU", () => {
  test("get, peek, has and add on a hit and a miss", () => {
    const { c } = lru();
    expect(c.add("a", "1")).toBe(true);
    expect({ get: c.get("a"), peek: c.peek("a"), has: c.has("a") }).toEqual({ get: "1", peek: "1", has: true });
    expect({ get: c.get("b"), peek: c.peek("b"), has: c.has("b") }).toEqual({
      get: undefined,
      peek: undefined,
      has: false,
    });
  });

  test.each<{ name: string; ops: (c: LRU<string>) => void; keys: string[] }>([
    { name: "adds, newest first", ops: (c) => ["a", "b", "c"].forEach((k) => c.add(k, "v")), keys: ["c", "b", "a"] },
    {
      name: "get bumps the tail",
      ops: (c) => (["a", "b", "c"].forEach((k) => c.add(k, "v")), c.get("a")),
      keys: ["a", "c", "b"],
    },
    {
      name: "get bumps the middle",
      ops: (c) => (["a", "b", "c"].forEach((k) => c.add(k, "v")), c.get("b")),
      keys: ["b", "c", "a"],
    },
    {
      name: "get of the head is a no-op",
      ops: (c) => (["a", "b", "c"].forEach((k) => c.add(k, "v")), c.get("c")),
      keys: ["c", "b", "a"],
    },
    {
      name: "peek and has do not bump",
      ops: (c) => (["a", "b", "c"].forEach((k) => c.add(k, "v")), c.peek("a"), c.has("b")),
      keys: ["c", "b", "a"],
    },
    {
      name: "replace bumps",
      ops: (c) => (["a", "b", "c"].forEach((k) => c.add(k, "v")), c.add("a", "w")),
      keys: ["a", "c", "b"],
    },
  ])("recency: $name", ({ ops, keys }) => {
    const { c } = lru();
    ops(c);
    expect([...c.keys()]).toEqual(keys);
  });

  test("evicts oldest first under a byte budget", () => {
    // Each entry costs 1 (key) + 2 (value) = 3; the budget holds three.
    const { c, evicted } = lru(9);
    for (const k of ["a", "b", "c"]) c.add(k, k + k);
    c.get("a");
    c.add("d", "dd");
    c.add("e", "ee");
    expect({ ...state(c), evicted }).toEqual({
      keys: ["e", "d", "a"],
      length: 3,
      bytes: 9,
      oldest: "a",
      evicted: [
        ["b", "bb"],
        ["c", "cc"],
      ],
    });
  });

  test("one large add evicts several entries", () => {
    const { c, evicted } = lru(10);
    for (const k of ["a", "b", "c"]) c.add(k, "x"); // 2 bytes each
    c.add("d", "1234567"); // 8 bytes: only "c" can stay
    expect({ ...state(c), evicted }).toEqual({
      keys: ["d", "c"],
      length: 2,
      bytes: 10,
      oldest: "c",
      evicted: [
        ["a", "x"],
        ["b", "x"],
      ],
    });
  });

  test.each([
    { name: "bigger", value: "123456", bytes: 7 + 2 },
    { name: "smaller", value: "", bytes: 1 + 2 },
    { name: "same size", value: "zzz", bytes: 4 + 2 },
  ])("replace with a $name value keeps bytes exact and does not call onEvicted", ({ value, bytes }) => {
    const { c, evicted } = lru(100);
    c.add("a", "aaa");
    c.add("b", "b");
    c.add("a", value);
    expect({ ...state(c), evicted, a: c.get("a") }).toEqual({
      keys: ["a", "b"],
      length: 2,
      bytes,
      oldest: "b",
      evicted: [],
      a: value,
    });
  });

  test("replace that overflows the budget evicts others, never itself", () => {
    const { c, evicted } = lru(10);
    c.add("a", "x");
    c.add("b", "x");
    c.add("a", "12345678"); // 9 bytes; "b" must go
    expect({ ...state(c), evicted }).toEqual({ keys: ["a"], length: 1, bytes: 9, oldest: "a", evicted: [["b", "x"]] });
  });

  test("remove reports presence and calls onEvicted", () => {
    const { c, evicted } = lru();
    for (const k of ["a", "b", "c"]) c.add(k, k);
    expect([c.remove("b"), c.remove("b"), c.remove("zz")]).toEqual([true, false, false]);
    expect({ ...state(c), evicted }).toEqual({
      keys: ["c", "a"],
      length: 2,
      bytes: 4,
      oldest: "a",
      evicted: [["b", "b"]],
    });
  });

  test.each(["a", "c"])("remove of the %s end keeps the list linked", (k) => {
    const { c } = lru();
    for (const key of ["a", "b", "c"]) c.add(key, key);
    c.remove(k);
    c.add("d", "d");
    c.get("b");
    expect([...c.keys()]).toEqual(k === "a" ? ["b", "d", "c"] : ["b", "d", "a"]);
  });

  test("removeOldest drains in LRU order, then returns false", () => {
    const { c, evicted } = lru();
    for (const k of ["a", "b"]) c.add(k, k.toUpperCase());
    expect([c.removeOldest(), c.removeOldest(), c.removeOldest()]).toEqual([true, true, false]);
    expect({ ...state(c), evicted }).toEqual({
      keys: [],
      length: 0,
      bytes: 0,
      oldest: undefined,
      evicted: [
        ["a", "A"],
        ["b", "B"],
      ],
    });
  });

  test("an entry larger than the budget is not stored and drops the old value", () => {
    const { c, evicted } = lru(5);
    c.add("a", "1");
    c.add("b", "1");
    expect(c.add("b", "12345")).toBe(false); // 6 bytes > 5
    expect(c.add("zz", "1234")).toBe(false);
    expect({ ...state(c), evicted, b: c.get("b") }).toEqual({
      keys: ["a"],
      length: 1,
      bytes: 2,
      oldest: "a",
      evicted: [],
      b: undefined,
    });
  });

  test("an entry exactly at the budget fits", () => {
    const { c } = lru(5);
    expect(c.add("a", "1234")).toBe(true);
    expect(state(c)).toEqual({ keys: ["a"], length: 1, bytes: 5, oldest: "a" });
  });

  test.each([0, undefined])("maxBytes %p means unlimited", (maxBytes) => {
    const { c, evicted } = lru(maxBytes);
    for (let i = 0; i < 1000; i++) c.add(`k${i}`, "x".repeat(1000));
    expect({ length: c.length, maxBytes: c.maxBytes, evicted: evicted.length, first: c.get("k0") }).toEqual({
      length: 1000,
      maxBytes: 0,
      evicted: 0,
      first: "x".repeat(1000),
    });
  });

  test.each([
    { key: "a", bytes: 1 },
    { key: "é", bytes: 2 },
    { key: "漢", bytes: 3 },
    { key: "😀", bytes: 4 },
    { key: "a😀é漢", bytes: 10 },
    { key: "\ud800", bytes: 3 }, // lone surrogate encodes as U+FFFD
    { key: "\udc00x", bytes: 4 },
    { key: "", bytes: 0 },
  ])("key $key costs $bytes UTF-8 bytes", ({ key, bytes }) => {
    const c = new LRU<Uint8Array>();
    c.add(key, new Uint8Array(10));
    const encoder = new TextEncoder().encode(key).length;
    expect({ bytes: c.bytes, encoder }).toEqual({ bytes: bytes + 10, encoder: bytes });
  });

  test("sweep removes dead entries a bounded slice at a time and resumes", () => {
    const { c, evicted } = lru();
    for (const k of ["a1", "b2", "c3", "d4", "e5"]) c.add(k, k);
    c.get("a1");
    const odd = (_k: string, v: string) => Number(v[1]) % 2 === 1;
    const first = c.sweep(0, 3, odd); // slots of a1, b2, c3
    expect({ first, ...state(c), evicted: [...evicted] }).toEqual({
      first: 3,
      keys: ["e5", "d4", "b2"],
      length: 3,
      bytes: 12,
      oldest: "b2",
      evicted: [
        ["a1", "a1"],
        ["c3", "c3"],
      ],
    });
    const second = c.sweep(first, 3, odd); // d4, e5, then wraps to a1's freed slot 0
    expect({ second, keys: [...c.keys()], evicted: evicted.slice(2) }).toEqual({
      second: 1,
      keys: ["d4", "b2"],
      evicted: [["e5", "e5"]],
    });
    expect([c.sweep(99, 10, odd), new LRU<string>().sweep(0, 10, odd)]).toEqual([0, 0]);
    expect(() => c.sweep(-1, 1, odd)).toThrow(RangeError);
  });

  test("clear empties without onEvicted and the cache stays usable", () => {
    const { c, evicted } = lru(10);
    for (const k of ["a", "b", "c"]) c.add(k, "x");
    c.clear();
    expect({ ...state(c), evicted }).toEqual({ keys: [], length: 0, bytes: 0, oldest: undefined, evicted: [] });
    c.add("d", "x");
    c.add("e", "x");
    expect(state(c)).toEqual({ keys: ["e", "d"], length: 2, bytes: 4, oldest: "d" });
  });

  test("Uint8Array values cost their byteLength", () => {
    const c = new LRU<Uint8Array>({ maxBytes: 100 });
    c.add("k", new Uint8Array(40));
    c.add("j", new Uint8Array(58)); // 41 + 59 = 100, exactly the budget
    expect({ bytes: c.bytes, keys: [...c.keys()] }).toEqual({ bytes: 100, keys: ["j", "k"] });
  });

  test.each<{ options: unknown; error: typeof RangeError | typeof TypeError }>([
    { options: { maxBytes: -1 }, error: RangeError },
    { options: { maxBytes: Number.NaN }, error: RangeError },
    { options: { maxBytes: 1.5 }, error: RangeError },
    { options: { maxBytes: Number.POSITIVE_INFINITY }, error: RangeError },
    { options: { maxBytes: "10" }, error: TypeError },
    { options: { onEvicted: "nope" }, error: TypeError },
  ])("rejects $options", ({ options, error }) => {
    expect(() => new LRU(options as LRUOptions<string>)).toThrow(error);
  });

  test.each([-1, Number.NaN, undefined])("add rejects a value whose length is %p", (length) => {
    const c = new LRU<{ length: number }>();
    expect(() => c.add("k", { length } as { length: number })).toThrow(TypeError);
    expect({ length: c.length, bytes: c.bytes }).toEqual({ length: 0, bytes: 0 });
  });

  test("the RangeError says what to fix", () => {
    expect(() => new LRU({ maxBytes: -1 })).toThrow("maxBytes must be a finite integer >= 0");
  });

  test("freed slots are reused, so slots never outnumber the peak of live entries", () => {
    const c = new LRU<string>({ maxBytes: 40 }); // every entry costs >= 2, so <= 20 live at once
    for (let i = 0; i < 10_000; i++) {
      c.add(`k${i % 97}`, "v".repeat(i % 7));
      if (i % 3 === 0) c.removeOldest();
      if (i % 11 === 0) c.remove(`k${(i * 7) % 97}`);
    }
    // A sweep over 20 slots wraps back to 0 only if there are at most 20 slots.
    expect(c.sweep(0, 20, () => false)).toBe(0);
  });

  test("matches a reference model over 10k random ops with slot reuse", () => {
    const maxBytes = 120;
    const evicted: Evicted[] = [];
    const c = new LRU<string>({ maxBytes, onEvicted: (k, v) => evicted.push([k, v]) });
    const model = new RefModel(maxBytes);
    const rand = mulberry32(0x5eed);
    const pool = ["a", "b", "c", "é", "漢", "😀", "key", "longer-key", "k1", "k2", "k3", "k4", "k5", "x😀y"];
    for (let i = 0; i < 30; i++) pool.push(`n${i}`);
    const pick = () => pool[Math.floor(rand() * pool.length)]!;
    const dead = (_k: string, v: string) => v.length % 5 === 0;
    let cursor = 0;
    for (let step = 0; step < 10_000; step++) {
      const r = rand();
      const key = pick();
      let got: unknown;
      let want: unknown;
      if (r < 0.45) {
        const value = "v".repeat(Math.floor(rand() * (rand() < 0.05 ? 130 : 30)));
        got = c.add(key, value);
        want = model.add(key, value);
      } else if (r < 0.7) {
        got = c.get(key);
        want = model.get(key, true);
      } else if (r < 0.78) {
        got = [c.peek(key), c.has(key)];
        want = [model.get(key, false), model.get(key, false) !== undefined];
      } else if (r < 0.9) {
        got = c.remove(key);
        want = model.remove(key);
      } else if (r < 0.97) {
        got = c.removeOldest();
        want = model.removeOldest();
      } else if (r < 0.975) {
        c.clear();
        model.clear();
      } else if (r < 0.99) {
        // Slot order is invisible to the model, so mirror whatever the sweep removed, then check
        // each removal was dead and that a full sweep left nothing dead behind.
        const full = rand() < 0.3;
        cursor = c.sweep(cursor, full ? 1e6 : Math.floor(rand() * 20), dead);
        for (const [k] of evicted) model.remove(k);
        got = {
          allDead: evicted.every(([k, v]) => dead(k, v)),
          deadLeft: full && [...c.keys()].some((k) => dead(k, c.peek(k)!)),
        };
        want = { allDead: true, deadLeft: false };
      } else {
        got = c.oldestKey();
        want = model.entries.at(-1)?.[0];
      }
      // Compare only this step's evictions so the check stays linear.
      const actual = { step, got, keys: [...c.keys()], length: c.length, bytes: c.bytes, evicted: evicted.splice(0) };
      expect(actual).toEqual({
        step,
        got: want,
        keys: model.entries.map(([k]) => k),
        length: model.entries.length,
        bytes: model.bytes(),
        evicted: model.evicted.splice(0),
      });
    }
    // With freed slots reused, no more slots exist than keys ever live at once, so a sweep of
    // pool.length slots comes back round to 0.
    expect(c.sweep(0, pool.length, () => false)).toBe(0);
  });
});

/** RefModel is the obviously-correct LRU: an array ordered newest first, costs via TextEncoder. */
class RefModel {
  entries: [string, string][] = [];
  evicted: Evicted[] = [];
  constructor(private readonly maxBytes: number) {}

  static cost(k: string, v: string): number {
    return new TextEncoder().encode(k).length + v.length;
  }
  bytes(): number {
    return this.entries.reduce((n, [k, v]) => n + RefModel.cost(k, v), 0);
  }
  private index(key: string): number {
    return this.entries.findIndex(([k]) => k === key);
  }
  get(key: string, bump: boolean): string | undefined {
    const i = this.index(key);
    if (i < 0) return undefined;
    const e = this.entries[i]!;
    if (bump) this.entries.splice(i, 1), this.entries.unshift(e);
    return e[1];
  }
  add(key: string, value: string): boolean {
    const i = this.index(key);
    if (i >= 0) this.entries.splice(i, 1);
    if (RefModel.cost(key, value) > this.maxBytes) return false;
    this.entries.unshift([key, value]);
    while (this.bytes() > this.maxBytes) this.evicted.push(this.entries.pop()!);
    return true;
  }
  remove(key: string): boolean {
    const i = this.index(key);
    if (i < 0) return false;
    this.evicted.push(this.entries.splice(i, 1)[0]!);
    return true;
  }
  removeOldest(): boolean {
    const e = this.entries.pop();
    if (e) this.evicted.push(e);
    return e !== undefined;
  }
  clear(): void {
    this.entries = [];
  }
}
