// Shared pieces of the benchmarks in scripts/bench/: arguments, statistics, tables, wrk, and how a
// benchmark runs its processes (through test/helpers/process.ts, the one process helper).

import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type RunningNode,
  type RunningProcess,
  type SpawnOptions,
  spawnNode,
  spawnNodes,
  spawnProcess,
} from "../../test/helpers/process.ts";

/** ROOT is the repository's root directory. */
export const ROOT = resolve(import.meta.dir, "../..");
/**
 * BINARY is the compiled node that `bun scripts/build.ts` writes; GEECACHE_BENCH_BINARY points the benchmarks at
 * another build (to compare two).
 */
export const BINARY = process.env.GEECACHE_BENCH_BINARY ?? join(ROOT, "dist/geecache");
/** BARE_SERVER is the tiny Bun.serve script the HTTP benchmarks measure geecache against. */
export const BARE_SERVER = join(import.meta.dir, "_bare-server.ts");
/** SERVER_CPU and LOAD_CPU keep servers and the load generator off each other's core. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;
/** START_TIMEOUT_MS bounds how long a spawned server may take to answer /healthz. */
export const START_TIMEOUT_MS = 10_000;

/** Args are the options every benchmark takes. */
export interface Args {
  /** quick asks for a short run: fewer, shorter rounds. */
  quick: boolean;
}

/** parseArgs reads `--quick` from argv; any other `--flag` is refused with the usage line. */
export function parseArgs(usage: string, argv = process.argv.slice(2)): Args {
  const args: Args = { quick: false };
  for (const a of argv) {
    if (a === "--quick") args.quick = true;
    else {
      process.stderr.write(`unknown argument ${a}\nusage: ${usage}\n`);
      process.exit(2);
    }
  }
  return args;
}

/**
 * procStatusMiB reads one field (in kB) of /proc/PID/status ("self": this process) as MiB; it throws where there is
 * none.
 */
export function procStatusMiB(pid: number | "self", field: "VmRSS" | "VmHWM"): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** median of xs (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Summary is the median, min and max of a set of rounds. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** summarize returns the median, min and max of xs. */
export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** fmt prints a number with about three significant digits and thousands separators. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ratio prints a/b as "0.87x". */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

/** table returns a markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** verdict prints whether a target is met. */
export function verdict(met: boolean): string {
  return met ? "met" : "MISSED";
}

/** tempDir makes a fresh directory under the system's temp dir; it is removed on dispose. */
export function tempDir(prefix: string): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), `geecache-bench-${prefix}-`));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** scoresDb writes a SQLite file at path with GeeCache's table `scores`, key i holding value(i); it returns path. */
export function scoresDb(path: string, keys: readonly string[], value: (i: number) => string): string {
  const db = new Database(path, { create: true });
  db.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO scores (key, value) VALUES (?, ?)");
  db.transaction(() => keys.forEach((k, i) => insert.run(k, value(i))))();
  db.close();
  return path;
}

/** freePorts returns n distinct ports that were free a moment ago on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () =>
    Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() }),
  );
  const ports = servers.map((s) => s.port!);
  await Promise.all(servers.map((s) => s.stop(true)));
  return ports;
}

/** pinning is the command prefix `taskset -c cpu` when taskset exists (and there is more than one core), else none. */
export function pinning(cpu: number): string[] {
  const taskset = Bun.which("taskset");
  return taskset && navigator.hardwareConcurrency > 1 ? [taskset, "-c", String(cpu)] : [];
}

/** pinned prefixes cmd with pinning(cpu). */
export function pinned(cpu: number, cmd: string[]): string[] {
  return [...pinning(cpu), ...cmd];
}

/** Server is a spawned server process (test/helpers/process.ts) and its URL; `await using` stops it. */
export type Server = RunningProcess & { url: string };

/**
 * BENCH_NODE is how a benchmark runs a node: BINARY pinned to SERVER_CPU, ready once /readyz
 * answers (the log level is warn), no drain (GEECACHE_DRAIN=0: older builds ignore it, where a
 * flag would stop them), stopped with SIGKILL.
 */
const benchNode = (port: number): SpawnOptions => ({
  binary: BINARY,
  prefix: pinning(SERVER_CPU),
  env: { GEECACHE_DRAIN: "0" },
  ready: `http://127.0.0.1:${port}/readyz`, // 200 once every worker thread listens (--workers)
  startTimeoutMs: START_TIMEOUT_MS,
  stopSignal: "SIGKILL",
});

/** spawnBenchNode starts the compiled geecache node on port with extra flags. */
export function spawnBenchNode(port: number, flags: readonly string[] = []): Promise<RunningNode> {
  return spawnNode([`--port=${port}`, "--log-level=warn", ...flags], benchNode(port));
}

/**
 * spawnBenchCluster starts a node on each port, each with --peers=peers (default: the bare ports)
 * plus flags(i); when one does not start, the others are stopped.
 */
export function spawnBenchCluster(
  ports: readonly number[],
  flags: (i: number) => readonly string[],
  peers: readonly string[] = ports.map(String),
): Promise<RunningNode[]> {
  const args = ports.map((p, i) => [`--port=${p}`, "--log-level=warn", `--peers=${peers.join(",")}`, ...flags(i)]);
  return spawnNodes(args, (i) => benchNode(ports[i]!));
}

/** spawnBare starts the bare Bun server in one of its modes (see _bare-server.ts), pinned to SERVER_CPU. */
export async function spawnBare(
  port: number,
  mode: "origin" | "headers" | "relay" | "slow" | "random",
  extra: string[] = [],
): Promise<Server> {
  const url = `http://127.0.0.1:${port}`;
  const cmd = [process.execPath, BARE_SERVER, `--port=${port}`, `--mode=${mode}`, ...extra];
  const options = { prefix: pinning(SERVER_CPU), startTimeoutMs: START_TIMEOUT_MS, stopSignal: "SIGKILL" } as const;
  return { ...(await spawnProcess(cmd, `${url}/healthz`, options)), url };
}

/** WrkResult is what one wrk run measured. */
export interface WrkResult {
  rps: number;
  requests: number;
  /** errors counts non-2xx/3xx answers plus socket errors. */
  errors: number;
  /** latency percentiles in ms (present with `latency: true`). */
  p50?: number;
  p75?: number;
  p90?: number;
  p99?: number;
  raw: string;
}

/** WrkOptions describe one wrk run: one thread, 64 connections unless told otherwise. */
export interface WrkOptions {
  url: string;
  seconds: number;
  connections?: number;
  /** script is a Lua file for wrk's -s. */
  script?: string;
  latency?: boolean;
}

/** hasWrk tells whether wrk is on PATH. */
export function hasWrk(): boolean {
  return Bun.which("wrk") !== null;
}

/** requireWrk prints how to install wrk and exits 0 when it is missing (the benchmark is skipped, not failed). */
export function requireWrk(name: string): void {
  if (hasWrk()) return;
  console.log(`${name}: skipped: wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk (then re-run).`);
  process.exit(0);
}

/** wrk runs wrk pinned to LOAD_CPU and parses its report; it throws when wrk fails. */
export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const cmd = ["wrk", "-t1", `-c${options.connections ?? 64}`, `-d${options.seconds}s`, "--timeout", "5s"];
  if (options.latency) cmd.push("--latency");
  if (options.script) cmd.push("-s", options.script);
  cmd.push(options.url);
  const proc = Bun.spawn(pinned(LOAD_CPU, cmd), { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), (options.seconds + 30) * 1000);
  const [raw, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err}${raw}`);
  return parseWrk(raw);
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseWrk reads requests/sec, the request count, errors and the latency percentiles from wrk's report. */
export function parseWrk(raw: string): WrkResult {
  const rps = Number(raw.match(/^Requests\/sec:\s+([\d.]+)/m)?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`cannot read Requests/sec from wrk's output:\n${raw}`);
  const requests = Number(raw.match(/^\s*(\d+) requests in /m)?.[1] ?? NaN);
  const non2xx = Number(raw.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const sock = raw.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const socketErrors = sock ? sock.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
  const pct = (p: number): number | undefined => {
    const m = raw.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m"));
    return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
  };
  return { rps, requests, errors: non2xx + socketErrors, p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99), raw };
}

/** checkWrk throws when a run had errors, so a broken setup never prints as a fast one. */
export function checkWrk(what: string, r: WrkResult): WrkResult {
  if (r.errors > 0) throw new Error(`${what}: ${r.errors} failed requests of ${r.requests}:\n${r.raw}`);
  return r;
}

/** luaCycle returns a wrk Lua script that requests path + each key in turn. */
export function luaCycle(path: string, keys: readonly string[]): string {
  const list = keys.map((k) => JSON.stringify(path + encodeURIComponent(k))).join(",\n  ");
  return `local paths = {\n  ${list}\n}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n`;
}

/**
 * alternate runs each named case once per round for `rounds` rounds, alternating, after one untimed warm-up each
 * (unless warm is false).
 */
export async function alternate<T>(
  rounds: number,
  cases: Record<string, () => Promise<T>>,
  warm = true,
): Promise<Record<string, T[]>> {
  const out: Record<string, T[]> = {};
  const names = Object.keys(cases);
  for (const n of names) out[n] = [];
  if (warm) for (const n of names) await cases[n]!();
  for (let r = 0; r < rounds; r++) {
    // Reverse the order on odd rounds so neither side always runs first.
    const order = r % 2 ? [...names].reverse() : names;
    for (const n of order) out[n]!.push(await cases[n]!());
  }
  return out;
}

/** footer prints the conditions of a run under its table. */
export function footer(extra: string, loadPinned = true): string {
  const pin =
    Bun.which("taskset") && navigator.hardwareConcurrency > 1
      ? `servers on CPU ${SERVER_CPU}${loadPinned ? `, load on CPU ${LOAD_CPU}` : ""}`
      : "not pinned (no taskset or one core)";
  return `${extra}; ${pin}; ${navigator.hardwareConcurrency} cores; Bun ${Bun.version}`;
}
