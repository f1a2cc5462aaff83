import { describe, expect, test } from "bun:test";
import { GC_SLACK_BYTES, GcPacer } from "../src/observability/gc-pacer.ts";

const MiB = 1024 * 1024;

/** pacer returns a GcPacer over a 64 MiB budget with a settable eviction count and RSS, and the collections it ran. */
function pacer() {
  const state = { evictions: 0, rss: 0, collections: 0 };
  const p = new GcPacer({
    budget: 64 * MiB,
    evictions: () => state.evictions,
    rss: () => state.rss,
    collect: () => void state.collections++,
  });
  return { p, state };
}

describe("GcPacer", () => {
  test("its limit is 1.25x the budget plus the slack", () => {
    expect(pacer().p.limit).toBe(80 * MiB + GC_SLACK_BYTES);
  });

  test.each<[string, number, number, boolean]>([
    ["no evictions, over the limit", 0, 500 * MiB, false],
    ["evictions, under the limit", 3, 100 * MiB, false],
    ["evictions, at the limit", 3, 80 * MiB + GC_SLACK_BYTES, false],
    ["evictions, over the limit", 3, 500 * MiB, true],
  ])("%s", (_, evictions, rss, collects) => {
    const { p, state } = pacer();
    Object.assign(state, { evictions, rss });
    expect([p.check(), state.collections]).toEqual([collects, collects ? 1 : 0]);
  });

  test("collects once per new evictions, not again for the same ones", () => {
    const { p, state } = pacer();
    Object.assign(state, { evictions: 1, rss: 500 * MiB });
    const looks = [p.check(), p.check()];
    state.evictions = 2;
    looks.push(p.check());
    expect({ looks, collections: state.collections }).toEqual({ looks: [true, false, true], collections: 2 });
  });

  test("a started pacer looks on its own until stopped", async () => {
    const collected = Promise.withResolvers<void>();
    const p = new GcPacer({
      budget: 0,
      evictions: () => Date.now(),
      rss: () => 1e12,
      collect: () => collected.resolve(),
    });
    const stop = p.start(1);
    await collected.promise;
    stop();
  });

  test.each([-1, NaN, Infinity])("refuses budget %p", (budget) => {
    expect(() => new GcPacer({ budget, evictions: () => 0 })).toThrow(RangeError);
  });
});
