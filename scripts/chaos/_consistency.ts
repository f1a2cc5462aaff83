// Reading every key from every node in rounds, and finding keys the nodes disagree on.
import { apiGet } from "./_lib.ts";

/** Round is one read of every key from every node: values.get(key)[i] is node i's body, or null when it failed. */
export interface Round {
  /** t is when the round began, in ms after the event it is measured from. */
  t: number;
  values: Map<string, (string | null)[]>;
}

/** READ_CONCURRENCY bounds the requests of a round in flight at once. */
const READ_CONCURRENCY = 32;

/** readRound reads every key from every node (at most READ_CONCURRENCY at a time). */
export async function readRound(bases: readonly string[], keys: readonly string[], since: number): Promise<Round> {
  const t = performance.now() - since;
  const values = new Map(keys.map((k) => [k, bases.map((): string | null => null)]));
  const jobs = keys.flatMap((key) => bases.map((base, i) => ({ key, base, i })));
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { key, base, i } = jobs[next++]!;
      const a = await apiGet(base, key);
      values.get(key)![i] = a.status === 200 ? a.body : null;
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
  return { t, values };
}

/** readRounds reads rounds back to back until durationMs after since has passed (and at least one round). */
export async function readRounds(
  bases: readonly string[],
  keys: readonly string[],
  since: number,
  durationMs: number,
): Promise<Round[]> {
  const rounds: Round[] = [];
  do rounds.push(await readRound(bases, keys, since));
  while (performance.now() - since < durationMs);
  return rounds;
}

/** Divergence sums up rounds read after some event. */
export interface Divergence {
  /** rounds is how many rounds began at or after fromMs. */
  rounds: number;
  /** divergent are the keys that two nodes served with different values in one such round. */
  divergent: string[];
  /** failedReads counts reads of those rounds that got no 200. */
  failedReads: number;
  /** lastDivergentMs is when the last round with any divergent key began (ms after the event), -1 if none did. */
  lastDivergentMs: number;
}

/**
 * divergence looks at the rounds that began fromMs or later after the event (and notes the last divergent round of
 * all).
 */
export function divergence(rounds: readonly Round[], fromMs: number): Divergence {
  const divergent = new Set<string>();
  let failedReads = 0;
  let count = 0;
  let lastDivergentMs = -1;
  for (const r of rounds) {
    const late = r.t >= fromMs;
    if (late) count++;
    for (const [key, vs] of r.values) {
      const ok = vs.filter((v): v is string => v !== null);
      const split = new Set(ok).size > 1;
      if (split) lastDivergentMs = r.t;
      if (!late) continue;
      failedReads += vs.length - ok.length;
      if (split) divergent.add(key);
    }
  }
  return { rounds: count, divergent: [...divergent], failedReads, lastDivergentMs };
}
