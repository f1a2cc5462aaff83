// Helpers for tests that run the compiled binary (dist/geecache) as real processes.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { until } from "./until.ts";

/** BINARY is the executable that `bun scripts/build.ts` writes. */
export const BINARY = resolve(import.meta.dir, "../../dist/geecache");

/** START_TIMEOUT_MS bounds how long a node may take to print its "listening on" line. */
export const START_TIMEOUT_MS = 5000;

/** STOP_TIMEOUT_MS bounds how long stop() waits after its signal before it sends SIGKILL. */
export const STOP_TIMEOUT_MS = 5000;

/** requireBinary throws, telling how to build it, when dist/geecache is missing. */
export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`bun scripts/build.ts\` first (npm test does)`);
  return BINARY;
}

/** childEnv is the parent's environment without GEECACHE_* (so they cannot leak into a test), then env on top. */
export function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GEECACHE_")) out[k] = v;
  return { ...out, ...env };
}

/** Captured collects a child's output stream as text and lets a test wait for a pattern in it. */
export class Captured {
  text = "";
  closed = false;
  readonly #waiters = new Set<() => void>(); // re-checked on every chunk and at the end
  /** done resolves once the stream has ended. */
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  /** wait resolves with the first match of pattern; it rejects if the stream ends first or after timeoutMs. */
  wait(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      this.#waiters.delete(check);
      settle();
    };
    const check = () => {
      const m = this.text.match(pattern);
      if (m) finish(() => resolve(m));
      else if (this.closed) finish(() => reject(new Error(`output ended without ${pattern}; it was:\n${this.text}`)));
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${this.text}`))),
      timeoutMs,
    );
    this.#waiters.add(check);
    check();
    return promise;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.text += decoder.decode(chunk, { stream: true });
        for (const w of [...this.#waiters]) w();
      }
    } finally {
      this.text += decoder.decode();
      this.closed = true;
      for (const w of [...this.#waiters]) w();
    }
  }
}

/** RunningNode is a geecache process that has printed its "listening on" line. */
export interface RunningNode extends AsyncDisposable {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** url of the main listener (peer routes and API), as the node logged it. */
  url: string;
  /** apiUrl of the --api listener, or url when there is none. */
  apiUrl: string;
  /** self is the node's name on the ring, as it logged it (url unless --self or gRPC names it). */
  self: string;
  stdout: Captured;
  stderr: Captured;
  /**
   * stop sends signal (SIGTERM by default), waits for the exit (SIGKILL after STOP_TIMEOUT_MS) and returns the exit
   * code.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const LISTENING = /listening on (https?:\/\/[^\s,;"]+)(?:, API on (https?:\/\/[^\s,;"]+))?/;
const SELF = /; self ([^\s,;"]+),/;

/**
 * spawnNode starts dist/geecache with args and resolves once it logs "listening on" (so the log
 * level must be info or debug). env is merged over the parent's environment minus GEECACHE_*.
 * The process is killed if it does not start, and when the test process exits, whatever happens.
 */
export async function spawnNode(args: string[], env?: Record<string, string>): Promise<RunningNode> {
  const quiet = args.find((a) => /^--log-level=(silent|error|warn)$/.test(a));
  if (quiet)
    throw new TypeError(`spawnNode waits for the "listening on" line, which ${quiet} hides; use info or debug`);
  // Tests stop nodes often: no drain unless a test asks for one (the default 5 s would make every stop slow).
  const drain = args.some((a) => a.startsWith("--drain")) || env?.GEECACHE_DRAIN !== undefined ? [] : ["--drain=0"];
  const proc = Bun.spawn([requireBinary(), ...args, ...drain], {
    env: childEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const killOnExit = () => proc.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stdout = new Captured(proc.stdout);
  const stderr = new Captured(proc.stderr);

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
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

  let m: RegExpMatchArray;
  try {
    m = await stdout.wait(LISTENING, START_TIMEOUT_MS);
  } catch (err) {
    await stop("SIGKILL");
    throw new Error(
      `geecache ${args.join(" ")} did not start (exit ${proc.exitCode}); stderr: ${stderr.text.trim() || "(empty)"}`,
      { cause: err },
    );
  }
  const url = m[1]!;
  const self = stdout.text.slice(m.index).split("\n", 1)[0]!.match(SELF)?.[1] ?? url;
  return {
    proc,
    url,
    apiUrl: m[2] ?? url,
    self,
    stdout,
    stderr,
    stop,
    [Symbol.asyncDispose]: async () => void (await stop()),
  };
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
  const settled = await Promise.allSettled(
    files.map((f, i) =>
      spawnNode([`--port=0`, `--peers-file=${f}`, "--peers-file-interval=200ms", ...args(i)], options.env?.(i)),
    ),
  );
  const nodes = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
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
