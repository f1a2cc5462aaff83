// Shared pieces of the chaos scenarios: profile, HTTP probes, bounded load, percentiles, cleanup.
import { DEFAULT_PEER_TIMEOUT } from "../../src/cluster/peer-set.ts";
import { Ring } from "../../src/core/consistent-hash.ts";
import { DEFAULT_HOT_TTL } from "../../src/group/options.ts";

/** Profile is how long and how hard the scenarios run: the full run, or --quick for CI. */
export interface Profile {
  quick: boolean;
  /** copies is the nodes' --copies: 1 (the default) or 2; every other flag is the default. */
  copies: 1 | 2;
  /** hotTtl (ms) is the nodes' --hot-ttl (the default): the bound on how long two nodes may disagree. */
  hotTtl: number;
  /** peerTimeout (ms) is the nodes' --peer-timeout (the default). */
  peerTimeout: number;
  /** loadMs is how long the SIGKILL load runs; the kill comes at its middle. */
  loadMs: number;
  /** workers is the number of concurrent clients of a load. */
  workers: number;
  /** keys is how many keys the load spreads over. */
  keys: number;
  /** frozenMs is how long a node stays stopped (SIGSTOP) while its keys are read. */
  frozenMs: number;
  /** originDownMs is how long the origin answers 503. */
  originDownMs: number;
}

/** profile returns the full profile, or the short one CI runs; both run the nodes with the default flags (and copies). */
export function profile(quick: boolean, copies: 1 | 2 = 1): Profile {
  const defaults = { copies, hotTtl: DEFAULT_HOT_TTL, peerTimeout: DEFAULT_PEER_TIMEOUT };
  return quick
    ? { quick, ...defaults, loadMs: 3000, workers: 16, keys: 300, frozenMs: 5000, originDownMs: 2000 }
    : { quick, ...defaults, loadMs: 10_000, workers: 16, keys: 300, frozenMs: 8000, originDownMs: 5000 };
}

/** Answer is one HTTP request's outcome: status 0 means no answer (a connection error or the time limit). */
export interface Answer {
  status: number;
  body: string;
  /** start is when the request began (performance.now ms); ms is how long it took. */
  start: number;
  ms: number;
  headers: Headers | undefined;
}

/** REQUEST_TIMEOUT_MS bounds every request of the driver, so no loop can hang on a frozen node. */
export const REQUEST_TIMEOUT_MS = 5000;

/** request sends one request and never throws: a failure to get an answer is status 0 with the error as body. */
export async function request(url: string, init: RequestInit = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  const start = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body, start, ms: performance.now() - start, headers: res.headers };
  } catch (err) {
    return { status: 0, body: String(err), start, ms: performance.now() - start, headers: undefined };
  }
}

/** apiGet reads key through the node at base. */
export function apiGet(base: string, key: string, timeoutMs?: number): Promise<Answer> {
  return request(`${base}/api?key=${encodeURIComponent(key)}`, {}, timeoutMs);
}

/** apiPut writes value for key through the node at base. */
export function apiPut(base: string, key: string, value: string): Promise<Answer> {
  return request(`${base}/api?key=${encodeURIComponent(key)}`, { method: "PUT", body: value });
}

/** LoadOptions describe a bounded concurrent load. */
export interface LoadOptions {
  workers: number;
  durationMs: number;
  /** next picks the node and key of a worker's next request. */
  next: (worker: number, n: number) => { base: string; key: string };
  /** at runs once, at.ms into the load (e.g. a kill mid-run). */
  at?: { ms: number; run: () => void | Promise<void> };
}

/** Sample is one request of a load with its node and key. */
export interface Sample extends Answer {
  base: string;
  key: string;
}

/**
 * runLoad runs workers that each send one request at a time until durationMs has passed; it returns every sample and
 * when `at` ran.
 */
export async function runLoad(
  options: LoadOptions,
): Promise<{ samples: Sample[]; t0: number; atTime: number | undefined }> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  let atTime: number | undefined;
  const at = options.at;
  const trigger = at
    ? Bun.sleep(at.ms).then(async () => {
        atTime = performance.now();
        await at.run();
      })
    : Promise.resolve();
  const worker = async (w: number) => {
    for (let n = 0; performance.now() < end; n++) {
      const { base, key } = options.next(w, n);
      samples.push({ ...(await apiGet(base, key)), base, key });
    }
  };
  await Promise.all([trigger, ...Array.from({ length: options.workers }, (_, w) => worker(w))]);
  return { samples, t0, atTime };
}

/** percentile returns the p-th percentile (0-100) of xs by nearest rank, NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** ms prints a duration in ms with one decimal. */
export function ms(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)} ms` : "n/a";
}

/** owners returns, for each key, the node URL the nodes' ring (default hash and replicas) gives it. */
export function owners(urls: readonly string[], keys: readonly string[]): Map<string, string> {
  const ring = new Ring();
  ring.set(urls);
  return new Map(keys.map((k) => [k, ring.get(k)!]));
}

/** keyNames returns n keys named prefix0 ... prefix(n-1). */
export function keyNames(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/**
 * Cleanup is a stack of undo steps (kill a process, delete a namespace) run once, last in first
 * out, by `run` — from a finally block or from the SIGINT/SIGTERM handler it installs.
 */
export class Cleanup implements AsyncDisposable {
  readonly #steps: { what: string; undo: () => unknown }[] = [];
  #ran: Promise<string[]> | undefined;
  readonly #onSignal = (signal: NodeJS.Signals) => {
    void this.run().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };

  constructor() {
    process.on("SIGINT", this.#onSignal);
    process.on("SIGTERM", this.#onSignal);
  }

  /** add registers an undo step; `what` names it in the errors run reports. */
  add(what: string, undo: () => unknown): void {
    this.#steps.push({ what, undo });
  }

  /** run undoes every step once (later calls wait for the first) and resolves with the steps that failed. */
  run(): Promise<string[]> {
    this.#ran ??= (async () => {
      process.off("SIGINT", this.#onSignal);
      process.off("SIGTERM", this.#onSignal);
      const failed: string[] = [];
      for (const step of this.#steps.reverse()) {
        try {
          await step.undo();
        } catch (err) {
          failed.push(`${step.what}: ${String(err)}`);
        }
      }
      return failed;
    })();
    return this.#ran;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run();
  }
}
