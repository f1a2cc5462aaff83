// The one process helper: the compiled binary (dist/geecache) run as real processes by the tests,
// the benchmarks (scripts/bench) and the chaos scenarios (scripts/chaos): one node, several at
// once, a whole cluster on port 0, or a short run to completion.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { Captured } from "./captured.ts";
import { until } from "./until.ts";

/** BINARY is the executable that `bun scripts/build.ts` writes. */
export const BINARY = resolve(import.meta.dir, "../../dist/geecache");

/** START_TIMEOUT_MS bounds how long a node may take to print its "listening on" line. */
export const START_TIMEOUT_MS = 5000;

/** STOP_TIMEOUT_MS bounds how long stop() waits after its signal before it sends SIGKILL. */
export const STOP_TIMEOUT_MS = 5000;

/** requireBinary throws, telling how to build it, when binary (dist/geecache) is missing; it returns binary. */
export function requireBinary(binary = BINARY): string {
  if (!existsSync(binary))
    throw new Error(`${binary} is missing: run \`bun scripts/build.ts\` first (npm test and npm run bench do)`);
  return binary;
}

/** childEnv is the parent's environment without GEECACHE_* (so they cannot leak into a test), then env on top. */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GEECACHE_")) out[k] = v;
  return { ...out, ...env };
}

/** SpawnOptions shape how a process is run. */
export interface SpawnOptions {
  /** env is merged over the parent's environment minus GEECACHE_* (childEnv). */
  env?: Record<string, string>;
  /** binary is the geecache executable (default BINARY). */
  binary?: string;
  /** prefix goes before the command: `taskset -c CPU`, `ip netns exec NS`. */
  prefix?: readonly string[];
  /**
   * ready is a URL polled until it answers 200, for a process that prints no "listening on" line
   * (a quiet log level, another server); without it the process is ready once it prints that line.
   */
  ready?: string;
  /** startTimeoutMs bounds the wait for ready (default START_TIMEOUT_MS). */
  startTimeoutMs?: number;
  /** stopSignal is what stop() sends when given none (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/** RunningProcess is a started process with its output; `await using` stops it. */
export interface RunningProcess extends AsyncDisposable {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout: Captured;
  stderr: Captured;
  /** stop sends signal, waits for the exit (SIGKILL after STOP_TIMEOUT_MS) and returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** StartError is a process that exited or timed out before it was ready; output is all it printed. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly output: string,
    options: ErrorOptions,
  ) {
    super(message, options);
  }
}

const LISTENING = /listening on (https?:\/\/[^\s,;"]+)(?:, API on (https?:\/\/[^\s,;"]+))?/;
const SELF = /; self ([^\s,;"]+),/;

/**
 * spawnProcess runs prefix + cmd and resolves once it is ready: its stdout matched `ready` (the
 * match is returned), or the URL `ready` answered 200. It is killed, with a StartError, when it
 * exits first or startTimeoutMs passes; and when the test process exits, whatever happens.
 */
export async function spawnProcess(
  cmd: readonly string[],
  ready: RegExp | string,
  options: SpawnOptions = {},
): Promise<RunningProcess & { match: RegExpMatchArray | undefined }> {
  const proc = Bun.spawn([...(options.prefix ?? []), ...cmd], {
    env: childEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const killOnExit = () => proc.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stdout = new Captured(proc.stdout);
  const stderr = new Captured(proc.stderr);
  const stop = async (signal = options.stopSignal ?? "SIGTERM"): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
      try {
        await proc.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    process.off("exit", killOnExit);
    await Promise.all([stdout.done, stderr.done]);
    return proc.exitCode;
  };
  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  let match: RegExpMatchArray | undefined;
  try {
    if (typeof ready !== "string") match = await stdout.wait(ready, timeoutMs);
    else {
      const answers = async () =>
        exited() || (await fetch(ready, { signal: AbortSignal.timeout(1000) })).status === 200;
      await until(`${ready} to answer 200`, answers, { timeoutMs, intervalMs: 5 });
      if (exited()) throw new Error(`it exited with ${proc.exitCode ?? proc.signalCode}`);
    }
  } catch (err) {
    await stop("SIGKILL");
    throw new StartError(
      `${cmd.join(" ")} did not start (exit ${proc.exitCode}); stderr: ${stderr.text.trim() || "(empty)"}`,
      stdout.text + stderr.text,
      { cause: err },
    );
  }
  return { proc, stdout, stderr, stop, match, [Symbol.asyncDispose]: async () => void (await stop()) };
}

/** RunningNode is a geecache process that is ready. */
export interface RunningNode extends RunningProcess {
  /** url of the main listener (peer routes and API), as the node logged it (or the origin of SpawnOptions.ready). */
  url: string;
  /** apiUrl of the --api listener, or url when there is none. */
  apiUrl: string;
  /** self is the node's name on the ring, as it logged it (url unless --self or gRPC names it). */
  self: string;
}

/**
 * spawnNode starts the binary with args and resolves once it logs "listening on" (so the log
 * level must be info or debug), or once SpawnOptions.ready answers. Nodes stop at once: --drain=0
 * is added unless args or env say otherwise.
 */
export async function spawnNode(args: readonly string[], options: SpawnOptions = {}): Promise<RunningNode> {
  const quiet = args.find((a) => /^--log-level=(silent|error|warn)$/.test(a));
  if (quiet && !options.ready)
    throw new TypeError(`spawnNode waits for the "listening on" line, which ${quiet} hides; use info or debug`);
  // Tests stop nodes often: no drain unless asked for (the default 5 s would make every stop slow).
  const drain =
    args.some((a) => a.startsWith("--drain")) || options.env?.GEECACHE_DRAIN !== undefined ? [] : ["--drain=0"];
  const binary = requireBinary(options.binary);
  // GEECACHE_TEST_WORKERS=N runs every node a test starts on N workers (unless the test chose): the cluster suites
  // again with --workers (.ci/after.d/workers.sh).
  const n = process.env.GEECACHE_TEST_WORKERS;
  const workers = n && !args.some((a) => a.startsWith("--workers")) ? [`--workers=${n}`] : [];
  const p = await spawnProcess([binary, ...args, ...drain, ...workers], options.ready ?? LISTENING, options);
  if (!p.match) {
    const url = new URL(options.ready!).origin;
    return { ...p, url, apiUrl: url, self: url };
  }
  const url = p.match[1]!;
  const self = p.stdout.text.slice(p.match.index).split("\n", 1)[0]!.match(SELF)?.[1] ?? url;
  return { ...p, url, apiUrl: p.match[2] ?? url, self };
}

/**
 * spawnNodes starts one node per argument list, all at once (options may differ by node); if one
 * does not start, the others are stopped and its error is thrown.
 */
export async function spawnNodes(
  args: readonly (readonly string[])[],
  options: SpawnOptions | ((i: number) => SpawnOptions) = {},
): Promise<RunningNode[]> {
  const of = typeof options === "function" ? options : () => options;
  const settled = await Promise.allSettled(args.map((a, i) => spawnNode(a, of(i))));
  const nodes = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (!failed) return nodes;
  await Promise.all(nodes.map((n) => n.stop()));
  throw failed.reason;
}

/** CliResult is how a short run of the binary ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | number | null;
  stdout: string;
  stderr: string;
}

/** runCli runs dist/geecache to completion (SIGKILL after timeoutMs); env is merged as in spawnNode. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const proc = Bun.spawn([requireBinary(), ...args], {
    env: childEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 5000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code: proc.exitCode, signal: proc.signalCode, stdout, stderr };
}

/**
 * ProcessCluster is n nodes of the binary on port 0 that learned each other through peers files; `await using` stops
 * them.
 */
export interface ProcessCluster extends AsyncDisposable {
  nodes: RunningNode[];
  /** urls are the nodes' names on the ring (their self), in node order. */
  urls: string[];
  /** dir is the cluster's temporary directory (removed by stop). */
  dir: string;
  /** setPeers writes node i's peers file and waits until its /stats lists exactly those nodes and itself. */
  setPeers(i: number, urls: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/** SpawnClusterOptions shape the nodes of a process cluster. */
export interface SpawnClusterOptions {
  env?: (i: number) => Record<string, string> | undefined;
  /** peers is what node i's peers file lists once all listen (default: every node). */
  peers?: (urls: readonly string[], i: number) => readonly string[];
  /** timeoutMs bounds the wait for every node to list its peers. */
  timeoutMs?: number;
  /** ca is the PEM CA to trust when the nodes serve https (--tls-cert). */
  ca?: string;
}

/**
 * spawnCluster starts n nodes with `--port=0 --peers-file=F --peers-file-interval=200ms` plus
 * args(i), each with its own peers file, empty at first. Once every node has logged its URL, the
 * files are written (every node by default), and it waits, by polling each node's /stats, until
 * each lists its peers. No port is chosen before a node binds it.
 */
export async function spawnCluster(
  n: number,
  args: (i: number) => string[] = () => [],
  options: SpawnClusterOptions = {},
): Promise<ProcessCluster> {
  const dir = mkdtempSync(join(tmpdir(), "geecache-procs-"));
  const files = Array.from({ length: n }, (_, i) => join(dir, `peers-${i}`));
  for (const f of files) writeFileSync(f, "");
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  let nodes: RunningNode[] = [];
  const flags = (f: string, i: number) => ["--port=0", `--peers-file=${f}`, "--peers-file-interval=200ms", ...args(i)];
  try {
    nodes = await spawnNodes(files.map(flags), (i) => ({ env: options.env?.(i) }));
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = nodes.map((node) => node.self);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const setPeers = async (i: number, list: readonly string[]) => {
    writeFileSync(files[i]!, `${list.join("\n")}\n`);
    await listsExactly(nodes[i]!, new Set([...list, urls[i]!]), timeoutMs, options.ca);
  };
  try {
    await Promise.all(nodes.map((_, i) => setPeers(i, options.peers?.(urls, i) ?? urls)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, urls, dir, setPeers, stop, [Symbol.asyncDispose]: stop };
}

/** listsExactly polls node's /stats every 50 ms until its peers are want, failing after timeoutMs. */
async function listsExactly(
  node: RunningNode,
  want: ReadonlySet<string>,
  timeoutMs: number,
  ca?: string,
): Promise<void> {
  let peers: string[] = [];
  const lists = async () => {
    peers = [];
    const init = { signal: AbortSignal.timeout(timeoutMs), ...(ca ? { tls: { ca } } : {}) } as RequestInit;
    peers = ((await (await fetch(`${node.url}/stats`, init)).json()) as { peers: string[] }).peers;
    return peers.length === want.size && peers.every((p) => want.has(p));
  };
  try {
    await until(`${node.self} to list ${[...want].join(",")}`, lists, { timeoutMs });
  } catch (err) {
    throw new Error(`${node.self} lists ${peers.join(",") || "nothing"}, not ${[...want].join(",")}`, { cause: err });
  }
}
