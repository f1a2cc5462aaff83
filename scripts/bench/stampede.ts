/**
 * Benchmark: a stampede. 1,000 concurrent gets of one cold key, spread round-robin over three
 * nodes (dist/geecache), must cause exactly one loader call in the whole cluster (the sum of
 * the nodes' /stats localLoads); the table shows the time to serve all 1,000, against 1,000
 * concurrent gets of the same key once it is warm. Every round uses a fresh cold key.
 * Usage: bun scripts/bench/stampede.ts [--quick]
 * The source is a slow HTTP origin (a bare Bun server answering after 50 ms) when the binary has
 * `--source=http://...{key}`, else a SQLite file (whose loads are fast: the count still holds).
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import {
  fmt,
  footer,
  freePorts,
  median,
  parseArgs,
  ratio,
  type Server,
  spawnBare,
  spawnBenchCluster,
  summarize,
  table,
  tempDir,
  verdict,
} from "./_lib.ts";

const CONCURRENCY = 1000;
const ORIGIN_DELAY_MS = 50;
const REQUEST_TIMEOUT_MS = 15_000;

const { quick } = parseArgs("bun scripts/bench/stampede.ts [--quick]");
const rounds = quick ? 3 : 9;
using dir = tempDir("stampede");

const [originPort, ...ports] = await freePorts(4);
await using origin = await spawnBare(originPort!, "slow", [`--delay=${ORIGIN_DELAY_MS}`]);
/** cluster starts three nodes on ports over source; when one does not start, the others are stopped. */
const cluster = (source: string) => spawnBenchCluster(ports, () => [`--source=${source}`]);

// Prefer the slow HTTP origin: a load that takes 50 ms leaves every concurrent get time to pile up.
let nodes: Server[];
let sourceName: string;
const coldKey = (r: number) => `cold-${r}-${crypto.randomUUID().slice(0, 8)}`;
let keyOf = coldKey;
try {
  nodes = await cluster(`${origin.url}/values/{key}`);
  sourceName = `HTTP origin answering after ${ORIGIN_DELAY_MS} ms`;
} catch {
  const db = join(dir.path, "scores.db");
  const keys = Array.from({ length: rounds + 1 }, (_, r) => coldKey(r));
  const d = new Database(db, { create: true });
  d.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  for (const k of keys) d.run("INSERT INTO scores VALUES (?, ?)", [k, `value of ${k}`]);
  d.close();
  keyOf = (r) => keys[r]!;
  nodes = await cluster(`sqlite:${db}`);
  sourceName = "SQLite file (this binary has no HTTP source)";
}
await using _nodes = { [Symbol.asyncDispose]: () => Promise.all(nodes.map((n) => n.stop())).then(() => {}) };

async function localLoads(): Promise<number> {
  const all = await Promise.all(
    nodes.map(
      async (n) => ((await (await fetch(`${n.url}/stats`)).json()) as any).groups.scores.stats.localLoads as number,
    ),
  );
  return all.reduce((a, b) => a + b, 0);
}

/**
 * storm sends CONCURRENCY gets of key at once, round-robin over the nodes, and returns the ms until all are answered.
 */
async function storm(key: string): Promise<number> {
  const want = `value of ${key}`;
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const res = await fetch(`${nodes[i % nodes.length]!.url}/api?key=${encodeURIComponent(key)}`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return res.status === 200 && (await res.text()) === want;
    }),
  );
  const ms = performance.now() - t0;
  const bad = answers.filter((ok) => !ok).length;
  if (bad) throw new Error(`${bad} of ${CONCURRENCY} gets of ${key} failed or had the wrong value`);
  return ms;
}

await storm(keyOf(rounds)); // untimed: opens the connections and warms both code paths
const cold: number[] = [];
const warm: number[] = [];
const calls: number[] = [];
for (let r = 0; r < rounds; r++) {
  const key = keyOf(r);
  const before = await localLoads();
  cold.push(await storm(key));
  calls.push((await localLoads()) - before);
  warm.push(await storm(key));
  if ((await localLoads()) - before !== calls.at(-1)) throw new Error(`warm gets of ${key} called the loader again`);
}
const originCount = Number(await (await fetch(`${origin.url}/count`)).text());

const c = summarize(cold);
const w = summarize(warm);
const k = summarize(calls);
console.log(`### stampede.ts: ${CONCURRENCY} concurrent gets of one key over 3 nodes\n`);
console.log(
  table(
    [
      "round kind",
      "ms to serve all, median",
      "min",
      "max",
      "loader calls per round (median, min–max)",
      "ratio to warm",
    ],
    [
      [
        "cold key (fresh each round)",
        fmt(c.median),
        fmt(c.min),
        fmt(c.max),
        `${median(calls)} (${k.min}–${k.max})`,
        ratio(c.median, w.median),
      ],
      ["same key, warm", fmt(w.median), fmt(w.min), fmt(w.max), "0", "1.00x"],
    ],
  ),
);
const exact = calls.every((n) => n === 1);
console.log(
  `\nSource: ${sourceName}${sourceName.startsWith("HTTP") ? ` (it was asked ${originCount} times in ${rounds + 1} cold rounds, the untimed one included)` : ""}. ` +
    `Target exactly 1 loader call per cold key: ${verdict(exact)}. ` +
    footer(
      `${rounds} rounds, cold then warm; requests from this script (not pinned), ${REQUEST_TIMEOUT_MS / 1000} s timeout each`,
      false,
    ),
);
if (!exact) process.exitCode = 1;
