// `npm run chaos [-- --quick] [--only=kill,rejoin,writes,freeze,origin,partition]`: drives a
// 3-node cluster of dist/geecache through failures and prints what it measured as markdown tables.

import { DNSMASQ } from "../../test/helpers/dns.ts";
import { allUp, type Ctx, startChaosCluster } from "./_cluster.ts";
import { Cleanup, type Profile, profile } from "./_lib.ts";
import { Origin } from "./_origin.ts";
import { type FreezeResult, reportFreeze, runFreeze } from "./freeze.ts";
import { type JoinRow, reportJoin, runJoin } from "./join.ts";
import { type KillResult, reportKill, runKill } from "./kill.ts";
import { type OriginDownResult, reportOriginDown, runOriginDown } from "./origin-down.ts";
import { type PartitionResult, reportPartition, runPartition } from "./partition.ts";
import { type PurgeResult, reportPurge, runPurge } from "./purge.ts";
import { type RejoinResult, reportRejoin, runRejoin } from "./rejoin.ts";
import { type RollingResult, reportRolling, runRolling } from "./rolling.ts";
import { reportWrites, runWrites, type WritesResult } from "./writes.ts";

/** SCENARIOS are the names --only takes, in the order they run. */
export const SCENARIOS = [
  "kill",
  "rejoin",
  "writes",
  "freeze",
  "origin",
  "partition",
  "rolling",
  "rolling-dns",
  "purge",
  "join",
] as const;

/** SHARED are the scenarios of the one shared cluster, run again with --copies=2. */
const SHARED: readonly Scenario[] = ["kill", "rejoin", "writes", "freeze", "origin", "partition"];

/** Scenario is one name of SCENARIOS. */
export type Scenario = (typeof SCENARIOS)[number];

/** ChaosResults hold each scenario's figures (absent when it did not run). */
export interface ChaosResults {
  profile: Profile;
  kill?: KillResult;
  rejoin?: RejoinResult;
  writes?: WritesResult;
  freeze?: FreezeResult;
  origin?: OriginDownResult;
  partition?: PartitionResult;
  rolling?: RollingResult;
  purge?: PurgeResult;
  join?: JoinRow[] | { skipped: string };
  rollingDns?: RollingResult | { skipped: string };
  /** seconds is how long the run took. */
  seconds: number;
  /** cleanupErrors are undo steps (kills, namespace removals) that failed. */
  cleanupErrors: string[];
}

/** LOOPBACK_HOSTS are the nodes' addresses: one port shared, so a node restarts at the same URL. */
const LOOPBACK_HOSTS = ["127.0.1.1", "127.0.1.2", "127.0.1.3"];

/**
 * runChaos runs the scenarios (all, or `only`) and returns their figures; every process and namespace is gone when it
 * settles.
 */
export async function runChaos(
  options: { quick?: boolean; only?: readonly Scenario[]; copies?: 1 | 2 } = {},
): Promise<ChaosResults> {
  const p = profile(options.quick ?? false, options.copies ?? 1);
  const want = new Set(options.only ?? SCENARIOS);
  const started = performance.now();
  const results: Omit<ChaosResults, "seconds" | "cleanupErrors"> = { profile: p };
  const cleanup = new Cleanup();
  let cleanupErrors: string[];
  try {
    if ([...want].some((s) => !["partition", "purge", "join"].includes(s) && !s.startsWith("rolling"))) {
      const origin = new Origin();
      cleanup.add("stop the origin", () => origin[Symbol.dispose]());
      // The default flags, but --copies in the --copies=2 run.
      const args = [`--source=${origin.source}`, ...(p.copies === 2 ? ["--copies=2"] : [])];
      const nodes = await startChaosCluster({ hosts: LOOPBACK_HOSTS, args, defaults: true, cleanup });
      const ctx: Ctx = { profile: p, origin, nodes, cleanup };
      if (want.has("kill") || want.has("rejoin")) {
        results.kill = await runKill(ctx);
        results.rejoin = await runRejoin(ctx);
      }
      if (want.has("writes")) {
        await allUp(nodes);
        results.writes = await runWrites(ctx);
      }
      if (want.has("freeze")) {
        await allUp(nodes);
        results.freeze = await runFreeze(ctx);
      }
      if (want.has("origin")) {
        await allUp(nodes);
        results.origin = await runOriginDown(ctx);
      }
    }
    if (want.has("partition")) results.partition = await runPartition(p, cleanup);
    if (want.has("rolling")) results.rolling = await runRolling(p.quick, cleanup);
    if (want.has("purge")) results.purge = await runPurge(p.quick, cleanup);
    if (want.has("join"))
      results.join = DNSMASQ
        ? await runJoin(p.quick, cleanup)
        : { skipped: "dnsmasq is not installed (.ci/setup.d/dnsmasq.sh installs it)" };
    if (want.has("rolling-dns"))
      results.rollingDns = DNSMASQ
        ? await runRolling(p.quick, cleanup, "dns")
        : { skipped: "dnsmasq is not installed (.ci/setup.d/dnsmasq.sh installs it)" };
  } finally {
    cleanupErrors = await cleanup.run();
  }
  return { ...results, seconds: (performance.now() - started) / 1000, cleanupErrors };
}

/** reportChaos renders the results as markdown. */
export function reportChaos(r: ChaosResults): string {
  const p = r.profile;
  return [
    `## Chaos suite (${p.quick ? "--quick" : "full"} profile: 3 nodes of dist/geecache, default flags${p.copies === 2 ? " but --copies=2" : ""}; ${r.seconds.toFixed(1)} s)`,
    r.kill && reportKill(r.kill),
    r.rejoin && reportRejoin(r.rejoin),
    r.writes && reportWrites(r.writes, p.hotTtl),
    r.freeze && reportFreeze(r.freeze),
    r.origin && reportOriginDown(r.origin),
    r.partition && reportPartition(r.partition, p.hotTtl),
    r.rolling && reportRolling(r.rolling),
    r.purge && reportPurge(r.purge),
    r.join && ("skipped" in r.join ? `### A node joins: skipped (${r.join.skipped})` : reportJoin(r.join)),
    r.rollingDns &&
      ("skipped" in r.rollingDns
        ? `### Rolling restart, --peers-dns: skipped (${r.rollingDns.skipped})`
        : reportRolling(r.rollingDns)),
    r.cleanupErrors.length ? `cleanup failed: ${r.cleanupErrors.join("; ")}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join("\n\n");
}

/** parseChaosArgs reads --quick, --only=a,b and --copies=1|2; anything else exits 2 with the usage line. */
function parseChaosArgs(argv: string[]): { quick: boolean; only?: Scenario[]; copies?: 1 | 2 } {
  const usage = `usage: bun scripts/chaos/index.ts [--quick] [--only=${SCENARIOS.join(",")}] [--copies=1|2]`;
  const out: { quick: boolean; only?: Scenario[]; copies?: 1 | 2 } = { quick: false };
  for (const a of argv) {
    const only = a.match(/^--only=(.+)$/)?.[1]?.split(",");
    if (a === "--quick") out.quick = true;
    else if (a === "--copies=1" || a === "--copies=2") out.copies = a.endsWith("2") ? 2 : 1;
    else if (only?.every((s) => (SCENARIOS as readonly string[]).includes(s))) out.only = only as Scenario[];
    else {
      process.stderr.write(`unknown argument ${a}\n${usage}\n`);
      process.exit(2);
    }
  }
  return out;
}

if (import.meta.main) {
  // Every scenario runs with the default flags, then the cluster scenarios again with --copies=2
  // (one of them when --copies says which).
  const args = parseChaosArgs(process.argv.slice(2));
  for (const copies of args.copies ? [args.copies] : ([1, 2] as const)) {
    const only = copies === 2 && !args.copies ? (args.only ?? SHARED).filter((s) => SHARED.includes(s)) : args.only;
    if (only?.length === 0) continue;
    const results = await runChaos({ ...args, copies, only });
    process.stdout.write(`${reportChaos(results)}\n\n`);
  }
}
