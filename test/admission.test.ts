import { describe, expect, test } from "bun:test";
import { Group } from "../src/group/group.ts";
import { type Admission, DEFAULT_ADMISSION } from "../src/group/options.ts";
import { counting } from "./helpers/counting.ts";

/**
 * scan loads 20 hot keys a few times, then 2,000 keys seen once with a hot key asked after every ten; it returns the
 * loads.
 */
async function scan(admission: Admission | undefined) {
  const getter = counting(() => "vvvvvvvv");
  // Each entry costs 5 key bytes + 8 value bytes = 13; the budget holds 60 of them.
  const g = new Group({ name: "g", getter, cacheBytes: 60 * 13, admission });
  const hot = Array.from({ length: 20 }, (_, i) => `h${String(i).padStart(4, "0")}`);
  for (let round = 0; round < 5; round++) for (const k of hot) await g.get(k);
  for (let i = 0; i < 2000; i++) {
    await g.get(`s${String(i).padStart(4, "0")}`);
    if (i % 10 === 9) await g.get(hot[((i / 10) % 20) | 0]!);
  }
  const main = g.cacheStats().main;
  return {
    hotLoads: getter.keys.filter((k) => k.startsWith("h")).length,
    // Every loaded entry is either still cached or was counted as an eviction (admission drops included).
    accounted: main.items + main.evictions === getter.keys.length,
    withinBudget: main.bytes <= 60 * 13,
  };
}

describe("Group admission", () => {
  test("the default is W-TinyLFU: a group given no admission keeps its hot set through the scan", async () => {
    expect(DEFAULT_ADMISSION).toBe("tinylfu");
    expect(await scan(undefined)).toEqual({ hotLoads: 20, accounted: true, withinBudget: true });
  });

  test.each<{ admission: Admission; hotLoads: number }>([
    { admission: "tinylfu", hotLoads: 20 }, // each hot key loaded once: the scan never displaces them
    { admission: "lru", hotLoads: 20 + 196 }, // of the 200 hot asks during the scan, all but the first 4 missed
  ])("$admission: a scan of one-off keys and the hot set", async ({ admission, hotLoads }) => {
    expect(await scan(admission)).toEqual({ hotLoads, accounted: true, withinBudget: true });
  });

  test("an unknown admission is refused", () => {
    expect(() => new Group({ name: "g", getter: () => "v", admission: "lfu" as Admission })).toThrow(TypeError);
  });
});
