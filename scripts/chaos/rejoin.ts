// Scenario 2: the killed node starts again at its address; how many extra source loads does its return cost?

import { table } from "../bench/_lib.ts";
import { allUp, type Ctx, restart } from "./_cluster.ts";
import { readRound } from "./_consistency.ts";
import { keyNames, ms, owners } from "./_lib.ts";

/** RejoinResult is what the restart scenario measured. */
export interface RejoinResult {
  node: string;
  /** owned is how many of the keys the restarted node owns. */
  owned: number;
  /** extraLoads counts source loads from the restart until every key was read from every node twice. */
  extraLoads: number;
  /** extraOnOthers counts those loads of keys the restarted node does not own. */
  extraOnOthers: number;
  /** startMs is how long the process took to listen; upMs how long until every peer saw it up. */
  startMs: number;
  upMs: number;
  /** failedReads counts reads (of every key from every node) that got no 200. */
  failedReads: number;
}

/**
 * runRejoin restarts the last node (killed by runKill), waits until its peers use it again and reads every key
 * everywhere.
 */
export async function runRejoin(ctx: Ctx): Promise<RejoinResult> {
  const { profile, origin, nodes } = ctx;
  const node = nodes[nodes.length - 1]!;
  const keys = keyNames("k", profile.keys);
  const owner = owners(
    nodes.map((n) => n.url),
    keys,
  );
  const before = new Map(keys.map((k) => [k, origin.loads(k)]));
  const t0 = performance.now();
  await restart(node);
  const startMs = performance.now() - t0;
  const upMs = await allUp(nodes);
  let failedReads = 0;
  for (let i = 0; i < 2; i++) {
    const round = await readRound(
      nodes.map((n) => n.url),
      keys,
      t0,
    );
    for (const vs of round.values.values()) failedReads += vs.filter((v) => v === null).length;
  }
  const extra = (k: string) => origin.loads(k) - before.get(k)!;
  return {
    node: node.url,
    owned: keys.filter((k) => owner.get(k) === node.url).length,
    extraLoads: keys.reduce((sum, k) => sum + extra(k), 0),
    extraOnOthers: keys.filter((k) => owner.get(k) !== node.url).reduce((sum, k) => sum + extra(k), 0),
    startMs,
    upMs,
    failedReads,
  };
}

/** reportRejoin is the scenario's markdown table. */
export function reportRejoin(r: RejoinResult): string {
  return [
    `### 2. Restart and rejoin (${r.node} started again at its address; every key read from every node twice)`,
    table(
      [
        "keys it owns",
        "extra source loads",
        "of keys it does not own",
        "failed reads",
        "start",
        "until peers see it up",
      ],
      [
        [
          String(r.owned),
          String(r.extraLoads),
          String(r.extraOnOthers),
          String(r.failedReads),
          ms(r.startMs),
          ms(r.upMs),
        ],
      ],
    ),
  ].join("\n");
}
