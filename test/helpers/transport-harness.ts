// What the transport conformance suite (test/transport.cases.ts) runs its cases on: an in-process
// cluster whose loaders record their calls and name the node that loaded a value.
import { GeeCacheError } from "../../src/core/errors.ts";
import type { GroupOptions } from "../../src/group/options.ts";
import { type GetResult, type GroupStats, noStats } from "../../src/group/results.ts";
import type { TransportFactory, TransportOptions } from "../transport.cases.ts";
import { startCluster, type TestCluster } from "./cluster.ts";
import { counting } from "./counting.ts";

/** GROUP is the one group of every harness node. */
export const GROUP = "scores";

/**
 * source is node i's loader: `missing-*` keys do not exist, `fail-*` keys fail, `slow-*` keys wait
 * for gate (when node i has one); any other key loads as `<key>@<i>`, so a value names its loader.
 */
const source = (i: number, gate: Promise<void> | undefined) => async (key: string) => {
  if (key.startsWith("missing-")) return undefined;
  if (key.startsWith("fail-")) throw new Error(`node ${i}: the source is down`);
  if (key.startsWith("slow-") && gate) await gate;
  return `${key}@${i}`;
};

/** HarnessOptions shape the nodes of one case. */
export interface HarnessOptions {
  transport?: (i: number) => TransportOptions;
  group?: (i: number) => Partial<GroupOptions>;
  /** slow is the node whose loader waits on `slow-*` keys until release() (or the harness stops). */
  slow?: number;
}

/** Answer is what a case compares of an /api GET: the value only on a 2xx (error text is no contract). */
export interface Answer {
  status: number;
  value: string | null;
  from: string | null;
}

/** Harness is a started cluster, each node's loader calls, and the helpers the cases share; `await using` stops it. */
export interface Harness extends AsyncDisposable {
  c: TestCluster;
  /** loads[i] lists the keys node i's loader was called with, in order. */
  loads: string[][];
  /** api GETs key from node i's /api. */
  api(i: number, key: string): Promise<Answer>;
  /** cached is node i's cached copy of key (main or hot) as plain data, or undefined. */
  cached(i: number, key: string): PlainResult | undefined;
  stats(i: number): GroupStats;
  /** release lets the slow node's `slow-*` loads finish. */
  release(): void;
}

/** PlainResult is a GetResult with its value as text, for toEqual. */
export type PlainResult = { value: string; expiresAt: number; from: GetResult["from"] };

/** harness starts n nodes of factory's transport on port 0. */
export async function harness(factory: TransportFactory, n: number, o: HarnessOptions = {}): Promise<Harness> {
  const loads: string[][] = [];
  const gate = Promise.withResolvers<void>();
  const c = await startCluster(n, {
    transport: (i) => factory.make(o.transport?.(i) ?? {}),
    getter: (i) => {
      const g = counting(source(i, i === o.slow ? gate.promise : undefined));
      loads[i] = g.keys;
      return g;
    },
    group: o.group,
  });
  return {
    c,
    loads,
    async api(i, key) {
      const res = await fetch(`${c.nodes[i]!.httpUrl}/api?group=${GROUP}&key=${encodeURIComponent(key)}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      return { status: res.status, value: res.ok ? body : null, from: res.headers.get("x-geecache-from") };
    },
    cached(i, key) {
      const r = c.nodes[i]!.group.lookup(key);
      return r && { value: r.value.toString(), expiresAt: r.expiresAt, from: r.from };
    },
    stats: (i) => c.nodes[i]!.group.stats(),
    release: () => gate.resolve(),
    async [Symbol.asyncDispose]() {
      gate.resolve(); // a load left waiting would hold its node's requests open
      await c.stop();
    },
  };
}

/** counters builds a whole GroupStats from the counters a case expects to be non-zero. */
export const counters = (s: Partial<GroupStats>): GroupStats => ({ ...noStats(), ...s });

/** outcome settles p into "ok" or the code of the GeeCacheError it rejected with. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof GeeCacheError ? err.code : `not a GeeCacheError: ${String(err)}`;
  }
}

/** failed tells whether an outcome is a failure of the peer: neither a value nor NOT_FOUND. */
export const failed = (code: string): boolean => code !== "ok" && code !== "NOT_FOUND";
