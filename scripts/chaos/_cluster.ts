// The chaos suite's cluster: three processes of the compiled binary on fixed addresses, so a
// restarted node comes back at the same URL.
import type { Subprocess } from "bun";
import { Captured, childEnv, requireBinary, START_TIMEOUT_MS } from "../../test/helpers/process.ts";
import { until } from "../../test/helpers/until.ts";
import { type Cleanup, request } from "./_lib.ts";

const LISTENING = /listening on (https?:\/\/[^\s,;"]+)/;
const IN_USE = /cannot listen|in use|EADDRINUSE/i;
/** PORT_TRIES bounds how many random ports a cluster tries before it gives up. */
const PORT_TRIES = 5;

/** ChaosNode is one node process; it can be killed, stopped, continued and started again at the same address. */
export class ChaosNode {
  readonly url: string;
  readonly #argv: string[];
  #proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  #out: Captured | undefined;
  #err: Captured | undefined;

  /** constructor takes the node's URL and its whole command line (a prefix such as `ip netns exec NS` included). */
  constructor(url: string, argv: string[]) {
    this.url = url;
    this.#argv = argv;
  }

  /** pid is the running process's id, undefined when none runs. */
  get pid(): number | undefined {
    return this.#proc && this.#proc.exitCode === null && this.#proc.signalCode === null ? this.#proc.pid : undefined;
  }

  /** log is what the current process printed (stdout and stderr). */
  get log(): string {
    return `${this.#out?.text ?? ""}${this.#err?.text ?? ""}`;
  }

  /**
   * start runs the process and resolves once it listens; it rejects (with `inUse` set when the port was taken)
   * otherwise.
   */
  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`chaos: ${this.url} is already running`);
    const proc = Bun.spawn(this.#argv, { env: childEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    // The last resort if the driver dies without its cleanup: exit handlers run synchronously, and kill is.
    const killOnExit = () => proc.kill("SIGKILL");
    process.once("exit", killOnExit);
    void proc.exited.then(() => process.off("exit", killOnExit));
    this.#proc = proc;
    this.#out = new Captured(proc.stdout);
    this.#err = new Captured(proc.stderr);
    try {
      await Promise.race([
        this.#out.wait(LISTENING, START_TIMEOUT_MS),
        proc.exited.then(() => Promise.reject(new Error("exited"))),
      ]);
    } catch (err) {
      await this.kill();
      const text = this.log.trim();
      throw Object.assign(
        new Error(`chaos: ${this.url} did not start: ${text.split("\n").slice(-2).join(" ") || String(err)}`),
        { inUse: IN_USE.test(text) },
      );
    }
  }

  /** signal sends sig to the running process (SIGSTOP, SIGCONT); nothing when none runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.pid !== undefined) this.#proc!.kill(sig);
  }

  /** kill sends SIGKILL (after SIGCONT, in case it was stopped) and waits for the exit. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
    }
    await proc.exited;
    await Promise.all([this.#out?.done, this.#err?.done]);
  }
}

/** ClusterSpec says where the nodes listen and how they are run. */
export interface ClusterSpec {
  hosts: readonly string[];
  /** args are the flags every node gets besides --host, --port and --peers. */
  args: readonly string[];
  /** prefix is prepended to node i's command line (e.g. ip netns exec NS). */
  prefix?: (i: number) => string[];
  cleanup: Cleanup;
}

/**
 * startCluster starts one node on each host, all on one random high port, each listing all as
 * --peers; if a port is taken it kills what it started and tries another (PORT_TRIES in all).
 * Every process is registered with spec.cleanup to be killed by PID.
 */
export async function startCluster(spec: ClusterSpec): Promise<ChaosNode[]> {
  const binary = requireBinary();
  let last: unknown;
  for (let attempt = 0; attempt < PORT_TRIES; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const urls = spec.hosts.map((h) => `http://${h}:${port}`);
    const nodes = spec.hosts.map(
      (h, i) =>
        new ChaosNode(urls[i]!, [
          ...(spec.prefix?.(i) ?? []),
          binary,
          `--host=${h}`,
          `--port=${port}`,
          `--peers=${urls.join(",")}`,
          "--drain=0",
          "--log-level=info",
          ...spec.args,
        ]),
    );
    const started = await Promise.allSettled(nodes.map((n) => n.start()));
    const failed = started.find((s) => s.status === "rejected");
    if (!failed) {
      for (const n of nodes) spec.cleanup.add(`kill ${n.url}`, () => n.kill());
      return nodes;
    }
    await Promise.all(nodes.map((n) => n.kill()));
    last = failed.reason;
    if (!started.some((s) => s.status === "rejected" && (s.reason as { inUse?: boolean }).inUse)) break;
  }
  throw last;
}

/** restart starts node again at its address, retrying a few times while the port is still taken. */
export async function restart(node: ChaosNode): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await node.start();
    } catch (err) {
      if (attempt >= PORT_TRIES || !(err as { inUse?: boolean }).inUse) throw err;
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
