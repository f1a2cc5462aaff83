// Scenario 3: PUT new values (--copies=2) while one node is killed and started again; then read
// every key from every node for --hot-ttl + 1 s.

import { table } from "../bench/_lib.ts";
import { type Ctx, restart } from "./_cluster.ts";
import { divergence, readRound, readRounds } from "./_consistency.ts";
import { apiPut, keyNames, ms, owners } from "./_lib.ts";

/** WRITE_KEYS and WRITERS: how many keys are written, by how many sequential writers. */
const WRITE_KEYS = 60;
const WRITERS = 4;

/** WritesResult is what the writes-while-restarting scenario measured. */
export interface WritesResult {
  node: string;
  writes: number;
  /** acked counts writes answered 2xx; unacked the others (e.g. 502 while the owner was down). */
  acked: number;
  unacked: number;
  /**
   * lostWhileDown are keys whose last acknowledged write a survivor did not serve while the node was down (writes
   * paused).
   */
  lostWhileDown: string[];
  /**
   * lostElsewhere are those of lostWhileDown that the killed node did not own: with --copies=1 a
   * SIGKILL loses its own written values (the documented exception), never another node's.
   */
  lostElsewhere: string[];
  /** divergent are keys two nodes served with different values after --hot-ttl. */
  divergent: string[];
  /** lost are keys whose last acknowledged write (or a later attempt) was not what a node served after --hot-ttl. */
  lost: string[];
  /** lastDivergentMs is when (ms after the writes stopped) the last round that saw two values began; -1 if none. */
  lastDivergentMs: number;
  rounds: number;
  failedReads: number;
  examples: string[];
}

/**
 * runWrites writes through nodes 1 and 2 while node 0 is SIGKILLed and restarted, then checks what every node serves.
 */
export async function runWrites(ctx: Ctx): Promise<WritesResult> {
  const { profile, nodes } = ctx;
  const node = nodes[0]!;
  const through = nodes.slice(1).map((n) => n.url);
  const keys = keyNames("w", WRITE_KEYS);
  const attempts = new Map(keys.map((k) => [k, [] as { value: string; acked: boolean }[]]));
  // What a node may serve for key: its last acknowledged write or a later attempt (anything when none was
  // acknowledged).
  const allowed = (key: string): { has(v: string): boolean } => {
    const tries = attempts.get(key)!;
    const last = tries.findLastIndex((t) => t.acked);
    return last < 0 ? { has: () => true } : new Set(tries.slice(last).map((t) => t.value));
  };
  const writeMs = profile.quick ? 3000 : 6000;
  let writes = 0;
  const writeFor = async (durationMs: number) => {
    const end = performance.now() + durationMs;
    const writer = async (w: number) => {
      const mine = keys.filter((_, i) => i % WRITERS === w);
      for (let n = 0; performance.now() < end; n++) {
        const key = mine[(writes + n) % mine.length]!;
        const value = `${key}=w${writes++}`;
        const a = await apiPut(through[n % through.length]!, key, value);
        attempts.get(key)!.push({ value, acked: a.status >= 200 && a.status < 300 });
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  };
  await writeFor(writeMs / 3);
  await node.kill();
  // With the writes paused, every acknowledged write must be read back from both survivors.
  const whileDown = await readRound(through, keys, performance.now());
  const lostWhileDown = keys.filter((k) => whileDown.values.get(k)!.some((v) => v === null || !allowed(k).has(v)));
  const owner = owners(
    nodes.map((n) => n.url),
    keys,
  );
  const lostElsewhere = lostWhileDown.filter((k) => owner.get(k) !== node.url);
  await writeFor(writeMs / 3);
  await restart(node);
  await writeFor(writeMs / 3);
  const end = performance.now();
  const rounds = await readRounds(
    nodes.map((n) => n.url),
    keys,
    end,
    profile.hotTtl + 1000,
  );
  const d = divergence(rounds, profile.hotTtl);
  const lost: string[] = [];
  const examples: string[] = [];
  for (const key of keys) {
    const served = rounds
      .filter((r) => r.t >= profile.hotTtl)
      .flatMap((r) => r.values.get(key)!.filter((v): v is string => v !== null));
    const bad = served.find((v) => !allowed(key).has(v));
    if (bad !== undefined) {
      lost.push(key);
      if (examples.length < 3)
        examples.push(`${key}: last acknowledged ${attempts.get(key)!.findLast((t) => t.acked)?.value}, served ${bad}`);
    }
  }
  for (const key of d.divergent.slice(0, 3))
    examples.push(`${key} after --hot-ttl: ${rounds.at(-1)!.values.get(key)!.join(" / ")}`);
  const acked = [...attempts.values()].flat().filter((t) => t.acked).length;
  return {
    node: node.url,
    writes,
    acked,
    unacked: writes - acked,
    lostWhileDown,
    lostElsewhere,
    divergent: d.divergent,
    lost,
    lastDivergentMs: d.lastDivergentMs,
    rounds: d.rounds,
    failedReads: d.failedReads,
    examples,
  };
}

/** reportWrites is the scenario's markdown table. */
export function reportWrites(r: WritesResult, hotTtl: number): string {
  return [
    `### 3. Writes while a node restarts (${r.node} SIGKILLed and started again; then every key read from every node for ${hotTtl / 1000 + 1} s)`,
    table(
      [
        "writes",
        "acknowledged",
        "not acknowledged",
        "acknowledged writes lost while it was down",
        "keys with two values after --hot-ttl",
        "acknowledged writes lost",
        "last round with two values",
        "rounds after --hot-ttl",
        "failed reads",
      ],
      [
        [
          String(r.writes),
          String(r.acked),
          String(r.unacked),
          String(r.lostWhileDown.length),
          String(r.divergent.length),
          String(r.lost.length),
          r.lastDivergentMs < 0 ? "none" : ms(r.lastDivergentMs),
          String(r.rounds),
          String(r.failedReads),
        ],
      ],
    ),
    ...r.examples.map((e) => `- ${e}`),
  ].join("\n");
}
