// The chaos suite's cluster: three processes of the compiled binary on fixed addresses (started by
// test/helpers/process.ts spawnNodes), so a restarted node comes back at the same URL.

import { formatDuration } from "../../src/core/units.ts";
import { DEFAULT_DRAIN } from "../../src/node/shutdown.ts";
import { type RunningNode, type SpawnOptions, StartError, spawnNode, spawnNodes } from "../../test/helpers/process.ts";
import { until } from "../../test/helpers/until.ts";
import { type Cleanup, request } from "./_lib.ts";

const IN_USE = /cannot listen|in use|EADDRINUSE/i;
/** TERMINATE_TIMEOUT_MS bounds a graceful stop: the default 5 s drain, the handover and in-flight requests. */
const TERMINATE_TIMEOUT_MS = 15_000;
/** PORT_TRIES bounds how many random ports a cluster tries before it gives up. */
const PORT_TRIES = 5;

/** inUse tells whether a node failed to start because its address was taken. */
const inUse = (err: unknown) => err instanceof StartError && IN_USE.test(err.output);

/** ChaosNode is one node process at a fixed address: it can be killed, stopped, continued and started there again. */
export class ChaosNode {
  readonly url: string;
  #node: RunningNode;
  readonly #args: readonly string[];
  readonly #options: SpawnOptions;

  /** constructor takes the node's URL, its running process, and the flags and options that started it. */
  constructor(url: string, node: RunningNode, args: readonly string[], options: SpawnOptions) {
    this.url = url;
    this.#node = node;
    this.#args = args;
    this.#options = options;
  }

  get #running(): boolean {
    return this.#node.proc.exitCode === null && this.#node.proc.signalCode === null;
  }

  /** start runs the process again at its address and resolves once it listens; it rejects with a StartError otherwise. */
  async start(): Promise<void> {
    if (this.#running) throw new Error(`chaos: ${this.url} is already running`);
    this.#node = await spawnNode(this.#args, this.#options);
  }

  /** signal sends sig to the running process (SIGSTOP, SIGCONT); nothing when none runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.#running) this.#node.proc.kill(sig);
  }

  /** terminate sends SIGTERM (a graceful leave: drain and handover) and resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (!this.#running) return null;
    this.#node.proc.kill("SIGTERM");
    await Promise.race([this.#node.proc.exited, Bun.sleep(TERMINATE_TIMEOUT_MS)]);
    return this.#node.stop("SIGKILL"); // the exit code, or a kill if it overran
  }

  /** kill sends SIGKILL (after SIGCONT, in case it was stopped) and waits for the exit. */
  async kill(): Promise<void> {
    if (this.#running) this.#node.proc.kill("SIGCONT");
    await this.#node.stop("SIGKILL");
  }
}

/** ClusterSpec says where the nodes listen and how they are run. */
export interface ClusterSpec {
  hosts: readonly string[];
  /** args are the flags every node gets besides --host, --port and --peers. */
  args: readonly string[];
  /** discovery is how the nodes find each other, given their URLs (default: --peers listing all). */
  discovery?: (urls: readonly string[]) => string[];
  /** defaults runs the nodes with the default drain (the scenarios that stop nodes gracefully); else --drain=0. */
  defaults?: boolean;
  /** prefix is prepended to node i's command line (e.g. ip netns exec NS). */
  prefix?: (i: number) => string[];
  cleanup: Cleanup;
}

/**
 * startChaosCluster starts one node on each host, all on one random high port, each listing all
 * as --peers; if a port is taken it stops what it started and tries another (PORT_TRIES in all).
 * Every process is registered with spec.cleanup to be killed.
 */
export async function startChaosCluster(spec: ClusterSpec): Promise<ChaosNode[]> {
  let last: unknown;
  for (let attempt = 0; attempt < PORT_TRIES; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const urls = spec.hosts.map((h) => `http://${h}:${port}`);
    const peers = spec.discovery?.(urls) ?? [`--peers=${urls.join(",")}`];
    const args = spec.hosts.map((h) => [
      `--host=${h}`,
      `--port=${port}`,
      ...peers,
      // spawnNode adds --drain=0 unless told a drain: the default one, written out.
      `--drain=${spec.defaults ? formatDuration(DEFAULT_DRAIN) : "0"}`,
      "--log-level=info",
      ...spec.args,
    ]);
    const options = (i: number): SpawnOptions => ({ prefix: spec.prefix?.(i) });
    try {
      const running = await spawnNodes(args, options);
      const nodes = running.map((node, i) => new ChaosNode(urls[i]!, node, args[i]!, options(i)));
      for (const n of nodes) spec.cleanup.add(`kill ${n.url}`, () => n.kill());
      return nodes;
    } catch (err) {
      last = err;
      if (!inUse(err)) break;
    }
  }
  throw last;
}

/** restart starts node again at its address, retrying a few times while the port is still taken. */
export async function restart(node: ChaosNode): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await node.start();
    } catch (err) {
      if (attempt >= PORT_TRIES || !inUse(err)) throw err;
      await Bun.sleep(200);
    }
  }
}

/** Ctx is what a scenario on the loopback cluster works with. */
export interface Ctx {
  profile: import("./_lib.ts").Profile;
  origin: import("./_origin.ts").Origin;
  nodes: ChaosNode[];
  cleanup: Cleanup;
}

/**
 * UP_TIMEOUT_MS bounds the wait for every node to see every other up: a probe backoff can reach 16 s after a long
 * outage.
 */
export const UP_TIMEOUT_MS = 40_000;

/** allUp waits until no running node lists a peer as down in /stats; it resolves with the ms it waited. */
export function allUp(nodes: readonly ChaosNode[], timeoutMs = UP_TIMEOUT_MS): Promise<number> {
  return until(
    "every node to see its peers up",
    async () => {
      const downs = await Promise.all(
        nodes.map(async (n) => {
          const a = await request(`${n.url}/stats`, {}, 1000);
          return a.status === 200 ? (JSON.parse(a.body) as { down: string[] }).down.length : 1;
        }),
      );
      return downs.every((d) => d === 0);
    },
    { timeoutMs, intervalMs: 100 },
  );
}
