import { describe, expect, test } from "bun:test";
import { SingleFlight } from "../src/core/singleflight.ts";

describe("SingleFlight", () => {
  test("1,000 concurrent calls of one key call fn once and share its value", async () => {
    const sf = new SingleFlight<{ n: number }>();
    const gate = Promise.withResolvers<void>();
    let calls = 0;
    const fn = async () => {
      calls++;
      await gate.promise;
      return { n: calls };
    };
    const all = Array.from({ length: 1000 }, () => sf.do("k", fn));
    expect({ calls, inFlight: sf.inFlight("k"), size: sf.size }).toEqual({ calls: 1, inFlight: true, size: 1 });
    gate.resolve();
    const results = await Promise.all(all);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1); // the very same object
    expect(results[0]).toEqual({ n: 1 });
  });

  test("a rejection is shared by every concurrent caller", async () => {
    const sf = new SingleFlight<string>();
    const gate = Promise.withResolvers<void>();
    const boom = new Error("boom");
    let calls = 0;
    const fn = async () => {
      calls++;
      await gate.promise;
      throw boom;
    };
    const all = Array.from({ length: 10 }, () => sf.do("k", fn));
    gate.resolve();
    const settled = await Promise.allSettled(all);
    expect(calls).toBe(1);
    expect(settled).toEqual(Array.from({ length: 10 }, () => ({ status: "rejected", reason: boom })));
    expect(settled.every((s) => s.status === "rejected" && s.reason === boom)).toBe(true);
  });

  test("a synchronous throw becomes a rejection and frees the key", async () => {
    const sf = new SingleFlight<string>();
    let calls = 0;
    const p = sf.do("k", () => {
      calls++;
      throw new TypeError("sync");
    });
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow("sync");
    expect({ inFlight: sf.inFlight("k"), size: sf.size }).toEqual({ inFlight: false, size: 0 });
    expect(await sf.do("k", () => (calls++, "again"))).toBe("again");
    expect(calls).toBe(2);
  });

  test("a synchronous value is returned as a promise", async () => {
    const sf = new SingleFlight<number>();
    expect(await sf.do("k", () => 7)).toBe(7);
  });

  test.each<{ name: string; fn: () => Promise<string> }>([
    { name: "resolves", fn: async () => "v" },
    { name: "rejects", fn: async () => Promise.reject(new Error("x")) },
  ])("the key is forgotten once the call $name", async ({ fn }) => {
    const sf = new SingleFlight<string>();
    const p = sf.do("k", fn);
    expect({ inFlight: sf.inFlight("k"), size: sf.size }).toEqual({ inFlight: true, size: 1 });
    await p.catch(() => {});
    expect({ inFlight: sf.inFlight("k"), size: sf.size }).toEqual({ inFlight: false, size: 0 });
  });

  test("a call after settle starts a new call", async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    expect(await sf.do("k", async () => ++calls)).toBe(1);
    expect(await sf.do("k", async () => ++calls)).toBe(2);
  });

  test("different keys run independently", async () => {
    const sf = new SingleFlight<string>();
    const a = Promise.withResolvers<string>();
    const b = Promise.withResolvers<string>();
    const pa = sf.do("a", () => a.promise);
    const pb = sf.do("b", () => b.promise);
    expect({ a: sf.inFlight("a"), b: sf.inFlight("b"), size: sf.size }).toEqual({ a: true, b: true, size: 2 });
    b.resolve("B");
    expect(await pb).toBe("B");
    expect({ a: sf.inFlight("a"), b: sf.inFlight("b"), size: sf.size }).toEqual({ a: true, b: false, size: 1 });
    a.resolve("A");
    expect(await pa).toBe("A");
    expect(sf.size).toBe(0);
  });

  test("forget makes a new caller start a new call while the old one is pending", async () => {
    const sf = new SingleFlight<string>();
    const first = Promise.withResolvers<string>();
    const second = Promise.withResolvers<string>();
    let calls = 0;
    const p1 = sf.do("k", () => (calls++, first.promise));
    const p1b = sf.do("k", () => (calls++, Promise.resolve("never")));
    expect(p1b).toBe(p1);
    sf.forget("k");
    expect({ inFlight: sf.inFlight("k"), size: sf.size }).toEqual({ inFlight: false, size: 0 });
    const p2 = sf.do("k", () => (calls++, second.promise));
    expect(p2).not.toBe(p1);
    expect(calls).toBe(2);

    // The old call settling must not drop the new call from the map.
    first.resolve("old");
    expect(await p1).toBe("old");
    expect(sf.inFlight("k")).toBe(true);
    expect(sf.do("k", () => Promise.resolve("joined?"))).toBe(p2);

    second.resolve("new");
    expect(await p2).toBe("new");
    expect(sf.size).toBe(0);
  });

  test("forget of an unknown key is a no-op", () => {
    const sf = new SingleFlight<string>();
    sf.forget("nope");
    expect(sf.size).toBe(0);
  });
});
