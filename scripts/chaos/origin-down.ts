// Scenario 5: the origin answers 503 for a while: cached keys must still be served, uncached ones
// fail with a one-line 503, and the cluster must recover as soon as the origin is back.

import { until } from "../../test/helpers/until.ts";
import { table } from "../bench/_lib.ts";
import type { Ctx } from "./_cluster.ts";
import { readRound } from "./_consistency.ts";
import { type Answer, apiGet, keyNames, ms } from "./_lib.ts";

/** CACHED_KEYS is how many keys are read (and so cached) before the origin goes down. */
const CACHED_KEYS = 60;
/** RECOVERY_TIMEOUT_MS bounds the wait for fresh keys to load again. */
const RECOVERY_TIMEOUT_MS = 40_000;

/** OriginDownResult is what the origin-down scenario measured. */
export interface OriginDownResult {
  downMs: number;
  cached: { requests: number; ok: number; examples: string[] };
  /** uncached counts reads of never-read keys: 503s with a one-line body, and anything else. */
  uncached: { requests: number; oneLine503: number; other: number; examples: string[] };
  /** recoveryMs is how long after the origin came back a fresh key loaded through every node. */
  recoveryMs: number;
}

/**
 * runOriginDown caches CACHED_KEYS keys on every node, turns the origin down for profile.originDownMs and reads cached
 * and fresh keys through every node.
 */
export async function runOriginDown(ctx: Ctx): Promise<OriginDownResult> {
  const { profile, origin, nodes } = ctx;
  const bases = nodes.map((n) => n.url);
  const cachedKeys = keyNames("c", CACHED_KEYS);
  await readRound(bases, cachedKeys, performance.now());
  const cached: Answer[] = [];
  const uncached: Answer[] = [];
  let fresh = 0;
  origin.failing = true;
  try {
    const end = performance.now() + profile.originDownMs;
    const worker = async (w: number) => {
      for (let n = 0; performance.now() < end; n++) {
        const base = bases[(w + n) % bases.length]!;
        cached.push(await apiGet(base, cachedKeys[(w * 7 + n) % cachedKeys.length]!));
        uncached.push(await apiGet(base, `u${fresh++}`));
      }
    };
    await Promise.all(Array.from({ length: 4 }, (_, w) => worker(w)));
  } finally {
    origin.failing = false;
  }
  const up = performance.now();
  await until(
    "fresh keys to load through every node after the origin came back",
    async () => (await Promise.all(bases.map((b) => apiGet(b, `r${fresh++}`)))).every((a) => a.status === 200),
    { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 20 },
  );
  const recoveryMs = performance.now() - up;
  const okCached = cached.filter((a) => a.status === 200);
  const oneLine = (a: Answer) => a.status === 503 && a.body.trim() !== "" && !a.body.trim().includes("\n");
  const show = (a: Answer) => `${a.status} ${a.body.trim().slice(0, 160)}`;
  return {
    downMs: profile.originDownMs,
    cached: {
      requests: cached.length,
      ok: okCached.length,
      examples: cached
        .filter((a) => a.status !== 200)
        .slice(0, 3)
        .map(show),
    },
    uncached: {
      requests: uncached.length,
      oneLine503: uncached.filter(oneLine).length,
      other: uncached.filter((a) => !oneLine(a)).length,
      examples: uncached
        .filter((a) => !oneLine(a))
        .slice(0, 3)
        .map(show)
        .concat(uncached.filter(oneLine).slice(0, 1).map(show)),
    },
    recoveryMs,
  };
}

/** reportOriginDown is the scenario's markdown table. */
export function reportOriginDown(r: OriginDownResult): string {
  return [
    `### 5. The origin down for ${r.downMs / 1000} s (reads through every node)`,
    table(
      [
        "cached keys read",
        "answered 200",
        "uncached keys read",
        "503 with one line",
        "other answers",
        "recovery after the origin returned",
      ],
      [
        [
          String(r.cached.requests),
          String(r.cached.ok),
          String(r.uncached.requests),
          String(r.uncached.oneLine503),
          String(r.uncached.other),
          ms(r.recoveryMs),
        ],
      ],
    ),
    ...[...r.cached.examples.map((e) => `cached: ${e}`), ...r.uncached.examples.map((e) => `uncached: ${e}`)].map(
      (e) => `- ${e}`,
    ),
  ].join("\n");
}
