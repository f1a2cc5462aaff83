/**
 * Benchmark: 100 keys over a three-node cluster (dist/geecache, SQLite source, hot cache off so
 * every key another node owns is a peer hop), read through node 1 as one `POST /api/batch`
 * against 100 single `GET /api?key=` sent one after another and 16 at a time. Alternating rounds;
 * each sample is the wall time of `reads` reads of all 100 keys (values already cached at their
 * owners). Prints medians and the speed-up of the batch.
 * Usage: bun scripts/bench/batch.ts [--quick]
 */
import { join } from "node:path";
import {
  alternate,
  fmt,
  footer,
  freePorts,
  parseArgs,
  ratio,
  scoresDb,
  spawnBenchCluster,
  summarize,
  table,
  tempDir,
} from "./_lib.ts";

const KEYS = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);
const PARALLEL = 16;

const { quick } = parseArgs("bun scripts/bench/batch.ts [--quick]");
const rounds = quick ? 3 : 7;
const reads = quick ? 10 : 30;

using dir = tempDir("batch");
const dbPath = scoresDb(join(dir.path, "scores.db"), KEYS, (i) => `value-${i}`);

const nodes = await spawnBenchCluster(await freePorts(3), () => [`--source=sqlite:${dbPath}`, "--hot-cache-ratio=0"]);
await using _nodes = { [Symbol.asyncDispose]: () => Promise.all(nodes.map((n) => n.stop())).then(() => {}) };
const via = nodes[0]!.url;

const body = JSON.stringify({ keys: KEYS });
async function batch(): Promise<void> {
  const res = await fetch(`${via}/api/batch`, { method: "POST", body });
  const { results } = (await res.json()) as { results: { status: number }[] };
  if (res.status !== 200 || results.length !== KEYS.length || results.some((r) => r.status !== 200))
    throw new Error(`batch answered ${res.status}`);
}
async function one(key: string): Promise<void> {
  const res = await fetch(`${via}/api?key=${key}`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${key} answered ${res.status}`);
}
async function sequential(): Promise<void> {
  for (const k of KEYS) await one(k);
}
async function parallel(): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < KEYS.length) await one(KEYS[next++]!);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** timed returns the ms that `reads` runs of fn take. */
const timed = (fn: () => Promise<void>) => async () => {
  const start = performance.now();
  for (let i = 0; i < reads; i++) await fn();
  return (performance.now() - start) / reads;
};

await batch(); // every owner loads its keys once
const owned = await Promise.all(
  nodes.map(
    async (n) => ((await (await fetch(`${n.url}/stats`)).json()) as any).groups.scores.stats.localLoads as number,
  ),
);
const ms = await alternate(rounds, { batch: timed(batch), sequential: timed(sequential), parallel: timed(parallel) });
const s = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, summarize(v)]));
const row = (name: string, k: string) => [
  name,
  `${fmt(s[k]!.median)} ms`,
  `${fmt(s[k]!.min)} – ${fmt(s[k]!.max)} ms`,
  ratio(s[k]!.median, s.batch!.median),
];

console.log("### batch.ts: 100 keys over 3 nodes, read through node 1 (hot cache off)\n");
console.log(
  table(
    ["way", "ms per 100 keys, median", "min – max", "time vs the batch"],
    [
      row("one POST /api/batch", "batch"),
      row("100 GETs, one after another", "sequential"),
      row(`100 GETs, ${PARALLEL} at a time`, "parallel"),
    ],
  ),
);
console.log(
  `\nKeys loaded per owner: ${owned.join(" / ")}. The batch is ${ratio(s.sequential!.median, s.batch!.median)} faster than sequential GETs and ` +
    `${ratio(s.parallel!.median, s.batch!.median)} faster than ${PARALLEL}-parallel GETs. ` +
    footer(`${rounds} alternating rounds of ${reads} reads each`, false),
);
