/**
 * Benchmark: the compiled node's memory under churn, at budgets of 32 MiB to 1 GiB. For each
 * budget a fresh dist/geecache --cache-bytes=B loads values of one size from an HTTP origin
 * (random bytes) while 16 gets in flight ask for keys drawn uniformly from a key space many
 * times the budget, for a fixed time. The benchmark reads /proc/PID/status of the node every
 * 250 ms (VmRSS; VmHWM is the kernel's peak) and /stats (the cache's bytes, never over budget;
 * the JS heap, which holds the values, and the rest of the RSS).
 * Usage: bun scripts/bench/memory-churn.ts [--quick]   (--quick: 20 s per budget instead of 60 s)
 * Targets (issue 15): peak RSS <= 1.25 x budget + 80 MiB; flat: < 5% growth over the last 20 s
 * (the mean of the last 5 s against the mean of the 5 s that start that window).
 */
import { mulberry32 } from "../../test/helpers/prng.ts";
import {
  fmt,
  freePorts,
  parseArgs,
  spawnBare,
  spawnBenchNode,
  procStatusMiB as status,
  table,
  verdict,
} from "./_lib.ts";

const MiB = 1024 * 1024;
/** CASES are the budgets measured, each with its value size and key count (distinct bytes >> budget). */
const CASES = [
  { budgetMiB: 32, size: 16 * 1024, keys: 50_000 },
  { budgetMiB: 64, size: 16 * 1024, keys: 50_000 },
  { budgetMiB: 512, size: 64 * 1024, keys: 40_000 },
  { budgetMiB: 1024, size: 64 * 1024, keys: 80_000 },
] as const;
const CONCURRENCY = 16;
const SAMPLE_MS = 250;

const { quick } = parseArgs("bun scripts/bench/memory-churn.ts [--quick]");
const seconds = quick ? 20 : 60;
const onlyBudgets = process.env.MEMORY_CHURN_BUDGETS?.split(",").map(Number);

interface Result {
  budgetMiB: number;
  size: number;
  gets: number;
  hits: number;
  startMiB: number;
  peakMiB: number;
  growth: number; // relative growth over the last 20 s
  lastMiB: number; // mean RSS over the last 5 s
  maxCacheBytes: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function measure(c: (typeof CASES)[number]): Promise<Result> {
  const [originPort, nodePort] = await freePorts(2);
  await using origin = await spawnBare(originPort!, "random", [`--size=${c.size}`]);
  await using node = await spawnBenchNode(nodePort!, [
    `--cache-bytes=${c.budgetMiB}MiB`,
    `--source=${origin.url}/values/{key}`,
  ]);
  const pid = node.proc.pid;
  const stats = async () => (await (await fetch(`${node.url}/stats`)).json()) as any;
  const cacheBytes = (s: any) => (s.groups.scores.caches.main.bytes + s.groups.scores.caches.hot.bytes) as number;
  const startMiB = status(pid, "VmRSS");
  const samples: Array<{ t: number; rss: number }> = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const sampler = setInterval(() => samples.push({ t: performance.now() - t0, rss: status(pid, "VmRSS") }), SAMPLE_MS);
  const rng = mulberry32(c.budgetMiB);
  let gets = 0;
  let hits = 0;
  let maxCacheBytes = 0;
  const worker = async () => {
    while (performance.now() < end && gets < 10_000_000) {
      const key = `k${Math.floor(rng() * c.keys)}`;
      gets++;
      const res = await fetch(`${node.url}/api?key=${key}`, { signal: AbortSignal.timeout(10_000) });
      const got = (await res.bytes()).length;
      if (res.status !== 200 || got !== c.size)
        throw new Error(`get ${key}: ${res.status}, ${got} bytes, want ${c.size}`);
      if (res.headers.get("x-geecache-cache") === "hit") hits++;
      if (gets % 512 === 0) {
        const bytes = cacheBytes(await stats());
        if (bytes > c.budgetMiB * MiB) throw new Error(`the node's cache holds ${bytes} bytes, over its budget`);
        maxCacheBytes = Math.max(maxCacheBytes, bytes);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    clearInterval(sampler);
  }
  const s = await stats();
  maxCacheBytes = Math.max(maxCacheBytes, cacheBytes(s));
  const total = seconds * 1000;
  const window = (from: number, to: number) => mean(samples.filter((x) => x.t >= from && x.t < to).map((x) => x.rss));
  const first = window(total - 20_000, total - 15_000);
  const last = window(total - 5_000, total);
  return {
    budgetMiB: c.budgetMiB,
    size: c.size,
    gets,
    hits,
    startMiB,
    peakMiB: status(pid, "VmHWM"),
    growth: (last - first) / first,
    lastMiB: last,
    maxCacheBytes,
    memory: s.memory,
  };
}

const rows: string[][] = [];
for (const c of CASES) {
  if (onlyBudgets && !onlyBudgets.includes(c.budgetMiB)) continue;
  const r = await measure(c);
  const limit = 1.25 * r.budgetMiB + 80;
  const m = r.memory;
  rows.push([
    `${r.budgetMiB} MiB, ${r.size / 1024} KiB values`,
    `${fmt(r.gets / seconds)} /s, ${((100 * r.hits) / r.gets).toFixed(1)}% hits`,
    fmt(r.startMiB),
    fmt(r.peakMiB),
    fmt(limit),
    `${fmt(r.lastMiB)} (${(100 * r.growth).toFixed(1)}%)`,
    `${fmt(r.maxCacheBytes / MiB)}`,
    `${fmt(m.heapUsed / MiB)} / ${fmt(m.heapTotal / MiB)}`,
    fmt((m.rss - m.heapUsed) / MiB),
    verdict(r.peakMiB <= limit && (quick || r.growth < 0.05)),
  ]);
  console.error(`budget ${r.budgetMiB} MiB done`);
}
console.log(`### memory-churn.ts: dist/geecache under churn, ${seconds} s per budget, ${CONCURRENCY} gets in flight\n`);
console.log(
  table(
    [
      "budget",
      "gets",
      "RSS at start MiB",
      "peak RSS MiB (VmHWM)",
      "target MiB",
      "RSS last 5 s MiB (growth over last 20 s)",
      "cache held at most MiB",
      "JS heap used (values included) / total MiB",
      "rest MiB (RSS - heap used: Bun, garbage, kept pages)",
      "target",
    ],
    rows,
  ),
);
console.log(`\nTarget: peak RSS <= 1.25 x budget + 80 MiB and < 5% growth over the last 20 s. Bun ${Bun.version}.`);
if (quick)
  console.log(
    "- (--quick: the last 20 s of a 20 s run include the cache filling up, so growth is shown but not judged; the full run judges it)",
  );
