// Scenario 4: one node frozen by SIGSTOP; the latency of its keys through a survivor over time.

import { table } from "../bench/_lib.ts";
import { allUp, type Ctx } from "./_cluster.ts";
import { keyNames, ms, owners, percentile, runLoad } from "./_lib.ts";

/** BUCKET_MS is the width of the latency-over-time buckets. */
const BUCKET_MS = 500;
/** FROZEN_KEYS is how many keys of the frozen node are read. */
const FROZEN_KEYS = 100;
/** FREEZE_WORKERS is how many clients read them at once. */
const FREEZE_WORKERS = 8;

/** Bucket is the requests that started within one BUCKET_MS of the freeze. */
export interface Bucket {
  fromMs: number;
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** FreezeResult is what the frozen-node scenario measured. */
export interface FreezeResult {
  node: string;
  through: string;
  buckets: Bucket[];
  /** settledFromMs is the peer timeout + 1 s: requests that start later must not pay the timeout. */
  settledFromMs: number;
  /**
   * p99Settled is the p99 of requests that started settledFromMs or later after the freeze; requestsSettled their
   * number.
   */
  p99Settled: number;
  requestsSettled: number;
  /**
   * slow counts requests that took the peer timeout or longer; lastSlowStartMs is when the last of them started (-1 if
   * none).
   */
  slow: number;
  lastSlowStartMs: number;
  failed: number;
}

/**
 * runFreeze stops node 1 (SIGSTOP), reads its keys through node 0 for profile.frozenMs, then continues it (SIGCONT).
 */
export async function runFreeze(ctx: Ctx): Promise<FreezeResult> {
  const { profile, nodes } = ctx;
  const node = nodes[1]!;
  const through = nodes[0]!.url;
  // Keys never read before, so no node holds a copy: every one must go to (or around) the frozen owner.
  const owner = owners(
    nodes.map((n) => n.url),
    keyNames("f", FROZEN_KEYS * 10),
  );
  const keys = [...owner]
    .filter(([, o]) => o === node.url)
    .map(([k]) => k)
    .slice(0, FROZEN_KEYS);
  node.signal("SIGSTOP");
  let samples: Awaited<ReturnType<typeof runLoad>>["samples"];
  let t0: number;
  try {
    ({ samples, t0 } = await runLoad({
      workers: FREEZE_WORKERS,
      durationMs: profile.frozenMs,
      next: (w, n) => ({ base: through, key: keys[(w * 13 + n) % keys.length]! }),
    }));
  } finally {
    node.signal("SIGCONT");
  }
  await allUp(nodes);
  const buckets: Bucket[] = [];
  for (let from = 0; from < profile.frozenMs; from += BUCKET_MS) {
    const xs = samples.filter((s) => s.start - t0 >= from && s.start - t0 < from + BUCKET_MS);
    const lat = xs.map((s) => s.ms);
    buckets.push({
      fromMs: from,
      requests: xs.length,
      failed: xs.filter((s) => s.status !== 200).length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.length ? Math.max(...lat) : NaN,
    });
  }
  const settledFromMs = profile.peerTimeout + 1000;
  const settled = samples.filter((s) => s.start - t0 >= settledFromMs).map((s) => s.ms);
  const slow = samples.filter((s) => s.ms >= profile.peerTimeout);
  return {
    node: node.url,
    through,
    buckets,
    settledFromMs,
    p99Settled: percentile(settled, 99),
    requestsSettled: settled.length,
    slow: slow.length,
    lastSlowStartMs: slow.length ? Math.max(...slow.map((s) => s.start - t0)) : -1,
    failed: samples.filter((s) => s.status !== 200).length,
  };
}

/** reportFreeze is the scenario's markdown tables. */
export function reportFreeze(r: FreezeResult): string {
  return [
    `### 4. A frozen node (${r.node} SIGSTOPped; its keys read through ${r.through}; the default --peer-timeout)`,
    table(
      [
        "p99 after peer timeout + 1 s",
        "requests then",
        "requests that paid the timeout",
        "last of them started at",
        "failed",
      ],
      [
        [
          ms(r.p99Settled),
          String(r.requestsSettled),
          String(r.slow),
          r.lastSlowStartMs < 0 ? "none" : ms(r.lastSlowStartMs),
          String(r.failed),
        ],
      ],
    ),
    "",
    table(
      ["started after the freeze", "requests", "failed", "p50", "p99", "max"],
      r.buckets.map((b) => [
        `${(b.fromMs / 1000).toFixed(1)}-${((b.fromMs + BUCKET_MS) / 1000).toFixed(1)} s`,
        String(b.requests),
        String(b.failed),
        ms(b.p50),
        ms(b.p99),
        ms(b.max),
      ]),
    ),
  ].join("\n");
}
