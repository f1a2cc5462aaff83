/**
 * Benchmark: memory under churn. A Group with a 64 MiB budget gets 10x its budget of distinct
 * keys whose loader makes random values of 1 KiB to 64 KiB (the size derived from the key); the
 * cache's own byte count is checked after every get (it must never pass the budget) and the
 * process's peak RSS (VmHWM) is compared with the budget. Each round runs in a fresh process:
 * the Group left to JSC's own GC scheduling, the Group with Bun.gc(true) after every eighth of
 * the budget loaded, a baseline that makes the same values and keeps none, and the compiled node
 * (dist/geecache --cache-bytes=64MiB) loading the same values from an HTTP origin, alternating.
 * Usage: bun scripts/bench/memory.ts [--quick]
 * Target: peak RSS <= 1.25x budget + 80 MiB.
 */
import { Group } from "../../src/group/group.ts";
import {
  fmt,
  freePorts,
  parseArgs,
  procStatusMiB,
  ratio,
  spawnBare,
  spawnBenchNode,
  summarize,
  table,
  verdict,
} from "./_lib.ts";

const MiB = 1024 * 1024;
const BUDGET = 64 * MiB;
const WRITE_FACTOR = 10;
const MIN_VALUE = 1024;
const MAX_VALUE = 64 * 1024;
const CHILD_TIMEOUT_MS = 120_000;

/** ChildResult is what one measuring process reports. */
type Mode = "group" | "group-gc" | "baseline" | "binary";
const MODES: readonly Mode[] = ["group", "group-gc", "baseline", "binary"];
/** BINARY_CONCURRENCY is how many gets the benchmark keeps in flight against the node. */
const BINARY_CONCURRENCY = 16;
/** GC_EVERY is how many loaded bytes group-gc lets pass between full collections. */
const GC_EVERY = BUDGET / 8;

interface ChildResult {
  mode: Mode;
  gets: number;
  written: number; // bytes the loader made
  maxCacheBytes: number; // the most the cache ever held, checked after every get
  rssStartMiB: number; // after start-up and a full GC
  peakMiB: number; // VmHWM: the kernel's high-water mark of the RSS
  rssAfterGcMiB: number; // at the end, after a full GC
  ms: number;
  gcs: number; // forced full collections
}

/** vm reads one field of /proc/self/status as MiB (the RSS from Bun where there is no /proc). */
function vm(field: "VmHWM" | "VmRSS"): number {
  try {
    return procStatusMiB("self", field);
  } catch {
    return process.memoryUsage.rss() / MiB;
  }
}

/** sizeOf derives a value size from 1 KiB to 64 KiB from the key, so a key always has the same size. */
function sizeOf(key: string): number {
  return MIN_VALUE + (Bun.hash.crc32(key) % (MAX_VALUE - MIN_VALUE + 1));
}

// _bare-server.ts --mode=random makes values of the same sizes for the node.
function randomValue(key: string): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(sizeOf(key))); // at most 65,536 bytes: getRandomValues' limit
}

async function child(mode: Mode): Promise<ChildResult> {
  const group = new Group({ name: "memory", cacheBytes: BUDGET, getter: (key) => randomValue(key) });
  Bun.gc(true);
  const rssStartMiB = vm("VmRSS");
  const t0 = performance.now();
  let written = 0;
  let maxCacheBytes = 0;
  let gets = 0;
  let sink = 0;
  let gcs = 0;
  let sinceGc = 0;
  while (written < WRITE_FACTOR * BUDGET) {
    const key = `key-${gets++}`;
    if (mode !== "baseline") {
      const v = await group.get(key);
      sink += v.length;
      const c = group.cacheStats();
      const bytes = c.main.bytes + c.hot.bytes;
      if (bytes > BUDGET)
        throw new Error(`after get ${gets} the cache holds ${bytes} bytes, over its budget of ${BUDGET}`);
      if (bytes > maxCacheBytes) maxCacheBytes = bytes;
    } else {
      sink += (await Promise.resolve(randomValue(key))).length;
    }
    written += sizeOf(key);
    sinceGc += sizeOf(key);
    if (mode === "group-gc" && sinceGc >= GC_EVERY) {
      // Evicted values are old-generation garbage that only a full collection frees.
      Bun.gc(true);
      gcs++;
      sinceGc = 0;
    }
  }
  const ms = performance.now() - t0;
  const peakMiB = vm("VmHWM");
  Bun.gc(true);
  if (sink !== written) throw new Error(`served ${sink} bytes but the loader made ${written}`);
  return { mode, gets, written, maxCacheBytes, rssStartMiB, peakMiB, rssAfterGcMiB: vm("VmRSS"), ms, gcs };
}

const childMode = process.argv.find((a) => a.startsWith("--child="))?.slice("--child=".length);
if (childMode !== undefined) {
  if (!MODES.includes(childMode as Mode)) throw new Error(`--child must be one of ${MODES.join(", ")}`);
  console.log(JSON.stringify(await child(childMode as Mode)));
  process.exit(0);
}

const { quick } = parseArgs("bun scripts/bench/memory.ts [--quick]");
const rounds = quick ? 3 : 5;

/**
 * binary measures the compiled node: the peak RSS (VmHWM) of its process while it loads 10x its budget from an HTTP
 * origin.
 */
async function binary(): Promise<ChildResult> {
  const [originPort, nodePort] = await freePorts(2);
  await using origin = await spawnBare(originPort!, "random");
  await using node = await spawnBenchNode(nodePort!, [
    `--cache-bytes=${BUDGET}`,
    `--source=${origin.url}/values/{key}`,
  ]);
  const status = (field: "VmHWM" | "VmRSS") => procStatusMiB(node.proc.pid, field);
  const cacheBytes = async () => {
    const g = ((await (await fetch(`${node.url}/stats`)).json()) as any).groups.scores;
    return (g.caches.main.bytes + g.caches.hot.bytes) as number;
  };
  const rssStartMiB = status("VmRSS");
  const t0 = performance.now();
  let next = 0;
  let written = 0;
  let maxCacheBytes = 0;
  const worker = async () => {
    while (written < WRITE_FACTOR * BUDGET) {
      const key = `key-${next++}`;
      written += sizeOf(key);
      const res = await fetch(`${node.url}/api?key=${key}`, { signal: AbortSignal.timeout(10_000) });
      const got = (await res.bytes()).length;
      if (res.status !== 200 || got !== sizeOf(key))
        throw new Error(`get ${key}: ${res.status}, ${got} bytes, want ${sizeOf(key)}`);
      if (next % 256 === 0) {
        const bytes = await cacheBytes();
        if (bytes > BUDGET) throw new Error(`the node's cache holds ${bytes} bytes, over its budget of ${BUDGET}`);
        maxCacheBytes = Math.max(maxCacheBytes, bytes);
      }
    }
  };
  await Promise.all(Array.from({ length: BINARY_CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  maxCacheBytes = Math.max(maxCacheBytes, await cacheBytes());
  return {
    mode: "binary",
    gets: next,
    written,
    maxCacheBytes,
    rssStartMiB,
    peakMiB: status("VmHWM"),
    rssAfterGcMiB: status("VmRSS"),
    ms,
    gcs: 0,
  };
}

async function run(mode: Mode): Promise<ChildResult> {
  if (mode === "binary") return binary();
  const proc = Bun.spawn([process.execPath, import.meta.path, `--child=${mode}`], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: CHILD_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`memory child ${mode} exited ${code}: ${err}${out}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as ChildResult;
}

const results: Record<Mode, ChildResult[]> = { group: [], "group-gc": [], baseline: [], binary: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of r % 2 ? [...MODES].reverse() : MODES) results[mode].push(await run(mode));
}

const budgetMiB = BUDGET / MiB;
const limitMiB = 1.25 * budgetMiB + 80;
const worst = (rs: ChildResult[]) => Math.max(...rs.map((x) => x.peakMiB));
const row = (name: string, rs: ChildResult[], target: boolean) => {
  const p = summarize(rs.map((x) => x.peakMiB));
  const start = summarize(rs.map((x) => x.rssStartMiB));
  const after = summarize(rs.map((x) => x.rssAfterGcMiB));
  const maxCache = Math.max(...rs.map((x) => x.maxCacheBytes));
  return [
    name,
    fmt(p.median),
    fmt(p.min),
    fmt(p.max),
    ratio(p.median, budgetMiB),
    fmt(start.median),
    fmt(after.median),
    maxCache ? `${fmt(maxCache / MiB)} MiB (${((maxCache / BUDGET) * 100).toFixed(1)}%)` : "–",
    fmt(summarize(rs.map((x) => x.ms)).median),
    target ? verdict(worst(rs) <= limitMiB) : "–",
  ];
};
const g = results.group;
console.log(`### memory.ts: ${WRITE_FACTOR}x a ${budgetMiB} MiB budget of random values (1–64 KiB) through a Group\n`);
console.log(
  table(
    [
      "process",
      "peak RSS MiB, median",
      "min",
      "max",
      "peak / budget",
      "RSS at start MiB",
      "RSS after GC at end MiB",
      "most the cache held",
      "ms",
      "target (every round)",
    ],
    [
      row(`geecache Group, cacheBytes ${budgetMiB} MiB, JSC's own GC`, g, true),
      row(
        `same, Bun.gc(true) after every ${GC_EVERY / MiB} MiB loaded (${results["group-gc"][0]!.gcs} times)`,
        results["group-gc"],
        true,
      ),
      row("baseline: same loader, nothing kept", results.baseline, false),
      row(
        `dist/geecache --cache-bytes=${budgetMiB}MiB (its GcPacer), HTTP origin, ${BINARY_CONCURRENCY} gets in flight; "after GC" = at the end, none forced`,
        results.binary,
        true,
      ),
    ],
  ),
);
console.log(
  `\n${g[0]!.gets.toLocaleString("en-US")} gets, ${fmt(g[0]!.written / MiB)} MiB made by the loader per run. ` +
    `The cache never passed its budget (checked after every get). ` +
    `Target peak RSS <= 1.25 x budget + 80 MiB = ${fmt(limitMiB)} MiB. ` +
    `${rounds} alternating rounds, each in a fresh process; Bun ${Bun.version}`,
);
