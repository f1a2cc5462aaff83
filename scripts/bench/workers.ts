/**
 * Benchmark: one node on N workers (--workers). On this machine's cores, every server process pinned to one core
 * (SERVER_CPU) and wrk (1 thread, 64 connections) on another (LOAD_CPU), requests for 10,000 keys drawn Zipf 0.99
 * (a seeded trace), rounds alternating between the cases:
 *   node:    dist/geecache --workers=2 against --workers=1 (and the default): requests/s, server CPU per request
 *            (utime + stime of the process, every thread, over the measured run), each worker's share of the
 *            requests (from /stats workers[]). Goals: rps >= 0.9x, CPU/request <= 1.15x, each worker >= 25%.
 *   memory:  peak RSS (VmHWM) of the node at --workers=1 and 2 filling --cache-bytes (64 and 256 MiB) with values
 *            of 1 to 64 KiB from an HTTP origin, 16 requests in flight. Goal: workers=2 <= workers=1 + 40 MiB.
 *   designs (--designs): the three prototypes of _workers-proto.ts (owner, copies, shared) at 1 and 2 workers.
 *   scale:   on a machine of more than 2 cores, requests/s at 1, 2, 4 ... N workers (servers on the first half of
 *            the cores, wrk on the other half) and the ratio to N x one worker (goal >= 0.8 x N up to 8).
 * Usage: bun scripts/bench/workers.ts [--quick] [--designs] [--memory] [--scale]
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../../test/helpers/prng.ts";
import { spawnProcess } from "../../test/helpers/process.ts";
import {
  alternate,
  BINARY,
  checkWrk,
  fmt,
  footer,
  freePorts,
  luaCycle,
  pinning,
  ROOT,
  ratio,
  requireWrk,
  SERVER_CPU,
  START_TIMEOUT_MS,
  scoresDb,
  spawnBare,
  spawnBenchNode,
  summarize,
  table,
  tempDir,
  verdict,
  wrk,
} from "./_lib.ts";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const designsOnly = argv.includes("--designs");
const memoryOnly = argv.includes("--memory");
const scaleOnly = argv.includes("--scale");
for (const a of argv)
  if (!["--quick", "--designs", "--memory", "--scale"].includes(a)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: bun scripts/bench/workers.ts [--quick] [--designs] [--memory] [--scale]\n`,
    );
    process.exit(2);
  }
requireWrk("workers");

const KEYS = 10_000;
const TRACE = 100_000;
const ROUNDS = quick ? 3 : 5;
const SECONDS = quick ? 3 : 6;
const MiB = 1024 * 1024;

/** zipfTrace draws TRACE keys k0..k9999 with P(rank r) ∝ 1/(r+1)^0.99, seeded. */
function zipfTrace(): string[] {
  const cdf = new Float64Array(KEYS);
  let sum = 0;
  for (let k = 0; k < KEYS; k++) cdf[k] = sum += 1 / (k + 1) ** 0.99;
  const rand = mulberry32(99);
  const out: string[] = [];
  for (let i = 0; i < TRACE; i++) {
    const x = rand() * sum;
    let lo = 0;
    let hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    out.push(`k${lo}`);
  }
  return out;
}

/** cpuTicks is utime + stime of pid (every thread), in seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, clock ticks (USER_HZ = 100)
}

interface Round {
  rps: number;
  usPerReq: number;
  shares: number[];
  rssMiB: number;
}

/** measure warms the server with the trace, then runs wrk and reads the CPU it used and each worker's requests. */
async function measure(url: string, pid: number, script: string, counts: () => Promise<number[]>): Promise<Round> {
  await wrk({ url, seconds: 2, script }); // warm: every key of the trace loaded (and copied by the workers)
  const before = await counts();
  const c0 = cpuSeconds(pid);
  const r = checkWrk(url, await wrk({ url, seconds: SECONDS, script }));
  const cpu = cpuSeconds(pid) - c0;
  const after = await counts();
  const per = after.map((n, i) => n - (before[i] ?? 0));
  const total = per.reduce((a, b) => a + b, 0);
  if (total === 0) per.fill(1); // one worker: no per-worker counters, all of it
  const rss = Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)/m)![1]) / 1024;
  return {
    rps: r.rps,
    usPerReq: (cpu / r.requests) * 1e6,
    shares: per.map((n) => n / (total || per.length)),
    rssMiB: rss,
  };
}

function report(title: string, results: Record<string, Round[]>, base: string): void {
  const b = results[base]!;
  const bRps = summarize(b.map((r) => r.rps)).median;
  const bCpu = summarize(b.map((r) => r.usPerReq)).median;
  const rows = Object.entries(results).map(([name, rs]) => {
    const rps = summarize(rs.map((r) => r.rps));
    const cpu = summarize(rs.map((r) => r.usPerReq));
    const shares = rs[0]!.shares.map((_, i) => fmt(summarize(rs.map((r) => r.shares[i]! * 100)).median));
    return [
      name,
      `${fmt(rps.median)} (${fmt(rps.min)}–${fmt(rps.max)})`,
      ratio(rps.median, bRps),
      `${fmt(cpu.median)} (${fmt(cpu.min)}–${fmt(cpu.max)})`,
      ratio(cpu.median, bCpu),
      shares.join(" / "),
      fmt(summarize(rs.map((r) => r.rssMiB)).median),
    ];
  });
  console.log(`\n### ${title}\n`);
  console.log(
    table(["case", "requests/s (min–max)", "x base", "CPU µs/request", "x base", "% per worker", "RSS MiB"], rows),
  );
}

const trace = zipfTrace();
using dir = tempDir("workers");
const script = join(dir.path, "zipf.lua");
await Bun.write(script, luaCycle("/api?key=", trace));

if (designsOnly) {
  const proto = join(import.meta.dir, "_workers-proto.ts");
  const cases: Record<string, () => Promise<Round>> = {};
  for (const design of ["owner", "copies", "shared"])
    for (const n of [1, 2]) {
      cases[`${design} ×${n}`] = async () => {
        const [port] = await freePorts(1);
        const url = `http://127.0.0.1:${port}`;
        await using p = await spawnProcess(
          [process.execPath, proto, `--port=${port}`, `--design=${design}`, `--workers=${n}`],
          `${url}/count`,
          { prefix: pinning(SERVER_CPU), startTimeoutMs: START_TIMEOUT_MS, stopSignal: "SIGKILL" },
        );
        await Bun.sleep(300); // the worker threads start listening after the first (no readiness of their own)
        const counts = async () => {
          const seen = new Map<number, number>();
          for (let i = 0; i < 64 && seen.size < n; i++) {
            const c = (await (await fetch(`${url}/count`, { headers: { connection: "close" } })).json()) as {
              id: number;
              requests: number;
            };
            seen.set(c.id, c.requests);
          }
          return Array.from({ length: n }, (_, i) => seen.get(i) ?? 0);
        };
        return await measure(`${url}/api?key=k0`, p.proc.pid, script, counts);
      };
    }
  const results = await alternate(ROUNDS, cases, false);
  report("designs (prototypes, pinned to one core)", results, "owner ×1");
  console.log(`\n${footer(`${ROUNDS} rounds of ${SECONDS} s, Zipf 0.99 over ${KEYS} keys, 64 connections`)}`);
  process.exit(0);
}

/** nodeCase measures one compiled node at --workers=n over the SQLite file of the KEYS keys. */
const nodeCase = (n: number, db: string) => async (): Promise<Round> => {
  const [port] = await freePorts(1);
  await using node = await spawnBenchNode(port!, [`--source=sqlite:${db}`, `--workers=${n}`]);
  const url = `http://127.0.0.1:${port}`;
  const counts = async (): Promise<number[]> => {
    const stats = (await (await fetch(`${url}/stats`)).json()) as { workers?: { requests: number }[] };
    await Bun.sleep(300); // the threads report their counters every 250 ms
    const again = (await (await fetch(`${url}/stats`)).json()) as { workers?: { requests: number }[] };
    return (again.workers ?? stats.workers ?? [{ requests: 0 }]).map((w) => w.requests);
  };
  return await measure(`${url}/api?key=k0`, node.proc.pid, script, n > 1 ? counts : async () => [1]);
};

/** threadShare is, for each --workers=2 fill, the share of its requests the second thread took. */
const threadShare: number[] = [];

/** peakRss fills a node at --workers=n and --cache-bytes=budget with values of 1 to 64 KiB; VmHWM in MiB. */
async function peakRss(n: number, budget: number): Promise<number> {
  const [port, originPort] = await freePorts(2);
  await using origin = await spawnBare(originPort!, "random");
  const flags = [`--source=${origin.url}/values/{key}`, `--cache-bytes=${budget}`, `--workers=${n}`];
  await using node = await spawnBenchNode(port!, flags);
  const url = `http://127.0.0.1:${port}`;
  // About three times the budget of distinct keys (mean value 32.5 KiB), 16 in flight, every key read twice (the
  // second read is what a worker copies).
  const keys = Math.ceil((3 * budget) / (32.5 * 1024));
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < keys * 2; i = next++) {
      const r = await fetch(`${url}/api?key=m${i >> 1}`);
      if (r.status !== 200) throw new Error(`GET m${i >> 1}: ${r.status}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, reader));
  if (n > 1) {
    await Bun.sleep(300); // the threads report every 250 ms
    const w = ((await (await fetch(`${url}/stats`)).json()) as { workers: { requests: number }[] }).workers;
    threadShare.push(w[1]!.requests / (w[0]!.requests + w[1]!.requests));
  }
  return Number(readFileSync(`/proc/${node.proc.pid}/status`, "utf8").match(/^VmHWM:\s+(\d+)/m)![1]) / 1024;
}

if (memoryOnly || (!quick && !scaleOnly)) {
  const budgets = [64 * MiB, 256 * MiB];
  const rows: string[][] = [];
  let met = true;
  for (const budget of budgets) {
    const r = await alternate(quick ? 1 : 3, { one: () => peakRss(1, budget), two: () => peakRss(2, budget) }, false);
    const one = summarize(r.one!);
    const two = summarize(r.two!);
    met &&= two.median <= one.median + 40;
    rows.push([
      `${budget / MiB} MiB`,
      `${fmt(one.median)} (${fmt(one.min)}–${fmt(one.max)})`,
      `${fmt(two.median)} (${fmt(two.min)}–${fmt(two.max)})`,
      `${fmt(two.median - one.median)}`,
    ]);
  }
  console.log("\n### peak RSS filling the budget (MiB)\n");
  console.log(table(["--cache-bytes", "--workers=1", "--workers=2", "difference"], rows));
  console.log(`\nworkers=2 <= workers=1 + 40 MiB at every budget: ${verdict(met)}`);
  console.log(
    `share of the requests the second thread took while filling: ${threadShare.map((x) => `${fmt(x * 100)}%`).join(", ")}`,
  );
  if (memoryOnly) process.exit(0);
}

const db = scoresDb(
  join(dir.path, "keys.db"),
  Array.from({ length: KEYS }, (_, i) => `k${i}`),
  (i) => `value-${i}`,
);
if (!scaleOnly) {
  const results = await alternate(ROUNDS, { "--workers=1": nodeCase(1, db), "--workers=2": nodeCase(2, db) }, false);
  report("one node pinned to one core", results, "--workers=1");
  const two = results["--workers=2"]!;
  const one = results["--workers=1"]!;
  const med = (rs: Round[], f: (r: Round) => number) => summarize(rs.map(f)).median;
  const rps = med(two, (r) => r.rps) / med(one, (r) => r.rps);
  const cpu = med(two, (r) => r.usPerReq) / med(one, (r) => r.usPerReq);
  const least = Math.min(...two.map((r) => Math.min(...r.shares)));
  console.log(`\nrequests/s at --workers=2 >= 0.9x --workers=1: ${ratio(rps, 1)} ${verdict(rps >= 0.9)}`);
  console.log(`server CPU per request <= 1.15x: ${ratio(cpu, 1)} ${verdict(cpu <= 1.15)}`);
  console.log(
    `each worker >= 25% of the requests (least share in any round): ${fmt(least * 100)}% ${verdict(least >= 0.25)}`,
  );
}

if (navigator.hardwareConcurrency > 2 || scaleOnly) await scale(db);

/**
 * scale runs, on a machine of more cores, one node at --workers=1, 2, 4 ... N (N = half the cores, at most 8) on the
 * first N cores and wrk (N threads, 256 connections) on the next N: requests/s and the ratio to n x one worker (goal
 * >= 0.8 x n); then --workers=auto against one Go groupcache process on the same cores (GCDEMO, or built from
 * ../shared/device/gcdemo.go when go is installed; goal >= 1.6 x).
 */
async function scale(db: string): Promise<void> {
  const cores = navigator.hardwareConcurrency;
  const n = Math.max(1, Math.min(8, Math.floor(cores / 2)));
  const serverCores = `0-${n - 1}`;
  const loadCores = cores > 1 ? `${n}-${Math.min(cores - 1, 2 * n - 1)}` : "0";
  const run = async (cmd: string[], url: string): Promise<number> => {
    await using _p = await spawnProcess(["taskset", "-c", serverCores, ...cmd], url.replace("k0", "k1"), {
      startTimeoutMs: START_TIMEOUT_MS,
      stopSignal: "SIGKILL",
    });
    const load = (seconds: number) =>
      Bun.spawn(["taskset", "-c", loadCores, "wrk", `-t${n}`, "-c256", `-d${seconds}s`, "-s", script, url], {
        stdout: "pipe",
      });
    await load(2).exited;
    const p = load(SECONDS);
    const raw = await new Response(p.stdout).text();
    await p.exited;
    return Number(raw.match(/^Requests\/sec:\s+([\d.]+)/m)?.[1] ?? Number.NaN);
  };
  const counts = [1];
  while (counts.at(-1)! * 2 <= n) counts.push(counts.at(-1)! * 2);
  const node = (workers: string) => async () => {
    const [port] = await freePorts(1);
    const flags = [`--port=${port}`, "--log-level=warn", `--source=sqlite:${db}`, `--workers=${workers}`];
    return run([BINARY, ...flags], `http://127.0.0.1:${port}/api?key=k0`);
  };
  const cases: Record<string, () => Promise<number>> = {};
  for (const w of counts) cases[`--workers=${w}`] = node(String(w));
  const gcdemo = process.env.GCDEMO ?? buildGcdemo();
  if (gcdemo && n >= 2) {
    cases["groupcache (GOMAXPROCS=N)"] = async () => {
      const [port, api] = await freePorts(2);
      const peers = `-peers=http://127.0.0.1:${port}`;
      const cmd = ["env", `GOMAXPROCS=${n}`, gcdemo, `-port=${port}`, peers, `-api=${api}`, `-nkeys=${KEYS}`];
      return run(cmd, `http://127.0.0.1:${api}/api?key=k0`);
    };
    cases["--workers=auto"] = node("auto");
  }
  const r = await alternate(quick ? 2 : 3, cases, false);
  const one = summarize(r["--workers=1"]!).median;
  const rows = Object.entries(r).map(([name, xs]) => {
    const m = summarize(xs);
    const w = Number(name.match(/^--workers=(\d+)$/)?.[1] ?? Number.NaN);
    const perN = Number.isNaN(w)
      ? ""
      : `${ratio(m.median, w * one)}${w > 1 ? ` ${verdict(m.median >= 0.8 * w * one)}` : ""}`;
    return [name, `${fmt(m.median)} (${fmt(m.min)}–${fmt(m.max)})`, perN];
  });
  console.log(`\n### scale: servers on cores ${serverCores}, wrk on cores ${loadCores}\n`);
  console.log(table(["case", "requests/s (min–max)", "x (n x one worker)"], rows));
  const gc = r["groupcache (GOMAXPROCS=N)"];
  if (gc) {
    const x = summarize(r["--workers=auto"]!).median / summarize(gc).median;
    console.log(`\n--workers=auto against groupcache on the same ${n} cores: ${ratio(x, 1)} ${verdict(x >= 1.6)}`);
  } else console.log("\n(no groupcache comparison on fewer than 4 cores, or without GCDEMO or go)");
}

/** buildGcdemo builds ../shared/device/gcdemo.go (GOPATH mode, Debian's groupcache) when go is installed. */
function buildGcdemo(): string | undefined {
  const src = join(ROOT, "../shared/device/gcdemo.go");
  if (!Bun.which("go") || !existsSync(src)) return undefined;
  const out = join(dir.path, "gcdemo");
  const env = { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", GOFLAGS: "" };
  const b = Bun.spawnSync(["go", "build", "-o", out, src], { env, stderr: "pipe" });
  return b.exitCode === 0 ? out : undefined;
}

console.log(`\n${footer(`${ROUNDS} rounds of ${SECONDS} s, Zipf 0.99 over ${KEYS} keys, 64 connections`)}`);
