/**
 * Benchmark: one geecache node's RESP port beside Debian's redis-server (started here on a free
 * port with --save '' --appendonly no), both pinned to one core, redis-benchmark (64 connections,
 * 100-byte values, cache hits) pinned to the other, in alternating rounds: GET at -P 1 and -P 16,
 * SET at -P 1. It prints requests per second, the ratio to Redis and the CPU time per request of
 * each server (utime + stime from /proc/PID/stat around each run); then /api through wrk against
 * RESP GET on the same node. Goals: GET -P1 >= 0.7x Redis, GET -P16 >= 0.8x, SET -P1 >= 0.5x.
 * Usage: bun scripts/bench/resp.ts [--quick]
 */
import { readFileSync } from "node:fs";
import { spawnProcess } from "../../test/helpers/process.ts";
import {
  alternate,
  checkWrk,
  fmt,
  footer,
  freePorts,
  LOAD_CPU,
  median,
  parseArgs,
  pinned,
  pinning,
  ratio,
  SERVER_CPU,
  START_TIMEOUT_MS,
  spawnBenchNode,
  table,
  verdict,
  wrk,
} from "./_lib.ts";

/** GOALS are the least share of Redis's requests per second geecache must reach, per case. */
export const GOALS = { "GET -P1": 0.7, "GET -P16": 0.8, "SET -P1": 0.5 } as const;

type Case = keyof typeof GOALS;

/** CLIENTS is redis-benchmark's and wrk's connection count. */
const CLIENTS = 64;

/** TICKS_PER_SECOND is the unit of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** cpuSeconds reads a process's user + system CPU time from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after the command name, which may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // fields 14 and 15 of the line
}

/** Run is one redis-benchmark run: requests per second and the server's CPU microseconds per request. */
interface Run {
  rps: number;
  cpuUs: number;
}

/** benchmark runs redis-benchmark for one case against port, measuring the server process pid. */
async function benchmark(port: number, pid: number, c: Case, requests: number): Promise<Run> {
  const [test, pipeline] = c.split(" -P") as [string, string];
  const cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-c", String(CLIENTS), "-n", String(requests)];
  cmd.push("-P", pipeline, "-d", "100", "-t", test.toLowerCase(), "--csv");
  const before = cpuSeconds(pid);
  const proc = Bun.spawn(pinned(LOAD_CPU, cmd), { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const cpu = cpuSeconds(pid) - before;
  const row = out.split("\n").find((l) => l.startsWith(`"${test}"`));
  if (code !== 0 || !row) throw new Error(`redis-benchmark ${c} on port ${port} failed (${code}): ${out}${err}`);
  const rps = Number(row.split(",")[1]!.replaceAll('"', ""));
  return { rps, cpuUs: (cpu / requests) * 1e6 };
}

/** requireRedis exits with a message when redis-server or redis-benchmark is missing. */
function requireRedis(): void {
  const missing = ["redis-server", "redis-benchmark"].filter((b) => !Bun.which(b));
  if (missing.length === 0) return;
  console.log(`resp.ts: skipped: ${missing.join(" and ")} not installed (apt-get install redis-server redis-tools).`);
  process.exit(0);
}

if (import.meta.main) {
  const { quick } = parseArgs("bun scripts/bench/resp.ts [--quick]");
  requireRedis();
  const rounds = quick ? 3 : 5;
  const n = (c: Case) => (c === "GET -P16" ? 8 : 2) * (quick ? 50_000 : 200_000);
  const [httpPort, respPort, redisPort] = (await freePorts(3)) as [number, number, number];
  await using node = await spawnBenchNode(httpPort, [`--resp-port=${respPort}`]);
  const redisCmd = [
    "redis-server",
    "--port",
    String(redisPort),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ];
  await using redis = await spawnProcess(redisCmd, /Ready to accept connections/, {
    prefix: pinning(SERVER_CPU),
    startTimeoutMs: START_TIMEOUT_MS,
    stopSignal: "SIGKILL",
  });
  const servers = { geecache: { port: respPort, pid: node.proc.pid }, redis: { port: redisPort, pid: redis.proc.pid } };
  // The GETs read the key the SETs write (key:__rand_int__ without -r): cache hits on both.
  for (const s of Object.values(servers)) await benchmark(s.port, s.pid, "SET -P1", 1000);
  const cases: Record<string, () => Promise<Run>> = {};
  for (const c of Object.keys(GOALS) as Case[])
    for (const [name, s] of Object.entries(servers)) cases[`${name} ${c}`] = () => benchmark(s.port, s.pid, c, n(c));
  const seconds = quick ? 2 : 5;
  const apiUrl = `${node.url}/api?key=Tom`;
  cases["geecache /api wrk"] = async () => {
    const before = cpuSeconds(node.proc.pid);
    const r = checkWrk(apiUrl, await wrk({ url: apiUrl, seconds, connections: CLIENTS }));
    return { rps: r.rps, cpuUs: ((cpuSeconds(node.proc.pid) - before) / r.requests) * 1e6 };
  };
  cases["geecache GET Tom -P1"] = async () => {
    // redis-benchmark's own command: the same key as /api, one request per round trip.
    const cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(respPort), "-c", String(CLIENTS)];
    cmd.push("-n", String(n("GET -P1")), "--csv", "GET", "Tom");
    const proc = Bun.spawn(pinned(LOAD_CPU, cmd), { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    const row = out.split("\n").find((l) => l.startsWith('"GET'));
    if (!row) throw new Error(`redis-benchmark GET Tom failed: ${out}`);
    return { rps: Number(row.split(",")[1]!.replaceAll('"', "")), cpuUs: Number.NaN };
  };
  const r = await alternate(rounds, cases);
  const med = (name: string) => median(r[name]!.map((x) => x.rps));
  const cpu = (name: string) => median(r[name]!.map((x) => x.cpuUs));
  const rows = (Object.keys(GOALS) as Case[]).map((c) => {
    const g = med(`geecache ${c}`);
    const x = med(`redis ${c}`);
    const met = g / x >= GOALS[c];
    return [
      c,
      fmt(g),
      fmt(x),
      ratio(g, x),
      `>= ${GOALS[c]}x ${verdict(met)}`,
      fmt(cpu(`geecache ${c}`)),
      fmt(cpu(`redis ${c}`)),
    ];
  });
  console.log("### resp.ts: geecache's RESP port against redis-server, 100-byte cache hits\n");
  console.log(
    table(["case", "geecache req/s", "redis req/s", "ratio", "goal", "geecache CPU µs/req", "redis CPU µs/req"], rows),
  );
  console.log("\nThe same node over HTTP and RESP (the key Tom, one request per round trip):\n");
  console.log(
    table(
      ["path", "req/s median", "CPU µs/req"],
      [
        ["/api?key=Tom through wrk", fmt(med("geecache /api wrk")), fmt(cpu("geecache /api wrk"))],
        ["RESP GET Tom through redis-benchmark -P1", fmt(med("geecache GET Tom -P1")), "-"],
      ],
    ),
  );
  console.log(`\n${footer(`${rounds} alternating rounds, redis-benchmark -c${CLIENTS} -d100, wrk -t1 -c${CLIENTS}`)}`);
}
