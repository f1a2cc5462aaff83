// Scenario 6: a network partition. Three nodes in network namespaces; one is cut off (its link
// down) while reads and writes go through the other two, then healed.

import { table } from "../bench/_lib.ts";
import { allUp, startChaosCluster } from "./_cluster.ts";
import { divergence, readRound, readRounds } from "./_consistency.ts";
import { apiPut, type Cleanup, keyNames, ms, type Profile, runLoad } from "./_lib.ts";
import { makeNetns, unavailable } from "./_netns.ts";
import { Origin } from "./_origin.ts";

/**
 * READ_KEYS are read during the cut; WRITE_KEYS are written before it and during it (both read, so cached, before it).
 */
const READ_KEYS = 150;
const WRITE_KEYS = 30;

/** PartitionResult is what the partition scenario measured, or why it was skipped. */
export interface PartitionResult {
  skipped?: string;
  cut?: string;
  cutMs?: number;
  /**
   * reads and failedReads are the reads through the two connected nodes during the cut; wrongReads got another body
   * than the origin's.
   */
  reads?: number;
  failedReads?: number;
  wrongReads?: number;
  writes?: number;
  ackedWrites?: number;
  /** divergent are keys two nodes served with different values from --hot-ttl after healing on. */
  divergent?: string[];
  lastDivergentMs?: number;
  rounds?: number;
  /** upMs is how long after healing every node saw its peers up again. */
  upMs?: number;
  examples?: string[];
}

/**
 * runPartition makes the namespaces and the cluster, cuts node 2 off for a while, heals it and compares what the nodes
 * serve.
 */
export async function runPartition(profile: Profile, cleanup: Cleanup): Promise<PartitionResult> {
  const why = unavailable();
  if (why) return { skipped: why };
  let net: ReturnType<typeof makeNetns>;
  try {
    net = makeNetns(3, cleanup);
  } catch (err) {
    return { skipped: `cannot make network namespaces: ${err instanceof Error ? err.message : String(err)}` };
  }
  const origin = new Origin(net.bridgeAddress);
  cleanup.add("stop the partition's origin", () => origin[Symbol.dispose]());
  const args = [
    `--source=${origin.source}`,
    ...(profile.copies === 2 ? ["--copies=2"] : []),
    // The nodes listen on the namespaces' own addresses without tokens: protected mode would refuse
    // the driver's writes and the peers' requests on this private test network.
    "--protected-mode=no",
  ];
  const nodes = await startChaosCluster({ hosts: net.hosts, args, prefix: net.prefix, cleanup });
  const bases = nodes.map((n) => n.url);
  const connected = bases.slice(0, 2);
  const readKeys = keyNames("p", READ_KEYS);
  const writeKeys = keyNames("q", WRITE_KEYS);
  // Every written key first gets a value on its owner and its copy holder, so the cut finds copies on both sides.
  for (const [i, key] of writeKeys.entries()) await apiPut(bases[i % 3]!, key, `${key}=before`);
  await readRound(bases, [...readKeys, ...writeKeys], performance.now());

  const cutMs = profile.quick ? 3000 : 6000;
  let writes = 0;
  let ackedWrites = 0;
  const writer = async (end: number) => {
    for (let n = 0; performance.now() < end; n++) {
      const a = await apiPut(connected[n % 2]!, writeKeys[n % WRITE_KEYS]!, `${writeKeys[n % WRITE_KEYS]}=w${n}`);
      writes++;
      if (a.status >= 200 && a.status < 300) ackedWrites++;
    }
  };
  net.cut(2);
  let load: Awaited<ReturnType<typeof runLoad>>;
  try {
    [load] = await Promise.all([
      runLoad({
        workers: 8,
        durationMs: cutMs,
        next: (w, n) => ({ base: connected[(w + n) % 2]!, key: readKeys[Math.floor(Math.random() * READ_KEYS)]! }),
      }),
      writer(performance.now() + cutMs),
    ]);
  } finally {
    net.heal(2);
  }
  const healed = performance.now();
  const [rounds, upMs] = await Promise.all([
    readRounds(bases, [...readKeys, ...writeKeys], healed, profile.hotTtl + 1000),
    allUp(nodes),
  ]);
  const d = divergence(rounds, profile.hotTtl);
  const samples = load.samples;
  return {
    cut: nodes[2]!.url,
    cutMs,
    reads: samples.length,
    failedReads: samples.filter((s) => s.status !== 200).length,
    wrongReads: samples.filter((s) => s.status === 200 && s.body !== origin.value(s.key)).length,
    writes,
    ackedWrites,
    divergent: d.divergent,
    lastDivergentMs: d.lastDivergentMs,
    rounds: d.rounds,
    upMs,
    examples: d.divergent.slice(0, 3).map((k) => `${k} after --hot-ttl: ${rounds.at(-1)!.values.get(k)!.join(" / ")}`),
  };
}

/** reportPartition is the scenario's markdown table (or the reason it was skipped). */
export function reportPartition(r: PartitionResult, hotTtl: number): string {
  const title = `### 6. A network partition (3 nodes in network namespaces; ${r.cut ?? "one"} cut off${r.cutMs ? ` for ${r.cutMs / 1000} s` : ""}, then healed; every key read from every node for ${hotTtl / 1000 + 1} s)`;
  if (r.skipped) return `${title}\nskipped: ${r.skipped}`;
  return [
    title,
    table(
      [
        "reads during the cut",
        "failed",
        "wrong",
        "writes (acknowledged)",
        "keys with two values after --hot-ttl",
        "last round with two values",
        "rounds after --hot-ttl",
        "until all see all up",
      ],
      [
        [
          String(r.reads),
          String(r.failedReads),
          String(r.wrongReads),
          `${r.writes} (${r.ackedWrites})`,
          String(r.divergent!.length),
          r.lastDivergentMs! < 0 ? "none" : ms(r.lastDivergentMs!),
          String(r.rounds),
          ms(r.upMs!),
        ],
      ],
    ),
    ...r.examples!.map((e) => `- ${e}`),
  ].join("\n");
}
