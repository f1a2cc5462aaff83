/**
 * Benchmark: how long one node takes to purge a group of 100,000 entries (Group.purgeLocal: main,
 * hot and written copies dropped, loads in flight marked). Median of 5 fills and purges, with the
 * spread. Usage: bun scripts/bench/purge.ts [--quick]. Goal: <= 100 ms.
 */
import { Group } from "../../src/group/group.ts";
import { fmt, median, parseArgs, table, verdict } from "./_lib.ts";

const { quick } = parseArgs("bun scripts/bench/purge.ts [--quick]");
const ENTRIES = 100_000;
const ROUNDS = quick ? 3 : 5;
const value = new Uint8Array(64).fill(7);
const times: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const g = new Group({ name: "g", cacheBytes: 64 << 20, getter: () => "x" });
  for (let i = 0; i < ENTRIES; i++) g.setLocal(`key-${r}-${i}`, value);
  const start = performance.now();
  const dropped = g.purgeLocal();
  times.push(performance.now() - start);
  if (dropped !== ENTRIES) throw new Error(`purged ${dropped} of ${ENTRIES}`);
}
const m = median(times);
console.log(`## Purge: ${ENTRIES} entries dropped by one node (${ROUNDS} rounds)\n`);
console.log(
  table(
    ["median", "min", "max", "goal", ""],
    [
      [
        `${fmt(m)} ms`,
        `${fmt(Math.min(...times))} ms`,
        `${fmt(Math.max(...times))} ms`,
        "<= 100 ms",
        verdict(m <= 100),
      ],
    ],
  ),
);
