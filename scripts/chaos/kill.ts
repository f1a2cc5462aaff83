// Scenario 1: SIGKILL one node while 16 clients read through the two others.

import { table } from "../bench/_lib.ts";
import type { Ctx } from "./_cluster.ts";
import { keyNames, ms, percentile, runLoad, type Sample } from "./_lib.ts";

/** Phase is the load before or after the kill, seen from the survivors. */
export interface Phase {
  requests: number;
  failed: number;
  /** wrong counts 200s whose body is not the origin's value of the key. */
  wrong: number;
  p50: number;
  p99: number;
  max: number;
}

/** KillResult is what the SIGKILL scenario measured. */
export interface KillResult {
  victim: string;
  before: Phase;
  after: Phase;
  /** examples are up to three failed or wrong answers, for the report. */
  examples: string[];
}

/** runKill kills the last node halfway through a load on the other two and counts failed and wrong answers. */
export async function runKill(ctx: Ctx): Promise<KillResult> {
  const { profile, origin, nodes } = ctx;
  const victim = nodes[nodes.length - 1]!;
  const survivors = nodes.slice(0, -1).map((n) => n.url);
  const keys = keyNames("k", profile.keys);
  const { samples, atTime } = await runLoad({
    workers: profile.workers,
    durationMs: profile.loadMs,
    next: (w, n) => ({
      base: survivors[(w + n) % survivors.length]!,
      key: keys[Math.floor(Math.random() * keys.length)]!,
    }),
    at: { ms: profile.loadMs / 2, run: () => victim.kill() },
  });
  const wrong = (s: Sample) => s.status === 200 && s.body !== origin.value(s.key);
  const phase = (xs: Sample[]): Phase => {
    const lat = xs.map((s) => s.ms);
    return {
      requests: xs.length,
      failed: xs.filter((s) => s.status !== 200).length,
      wrong: xs.filter(wrong).length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
    };
  };
  const bad = samples.filter((s) => s.status !== 200 || wrong(s));
  return {
    victim: victim.url,
    before: phase(samples.filter((s) => s.start < atTime!)),
    after: phase(samples.filter((s) => s.start >= atTime!)),
    examples: bad.slice(0, 3).map((s) => `${s.base} ${s.key}: ${s.status} ${s.body.trim().slice(0, 160)}`),
  };
}

/** reportKill is the scenario's markdown table. */
export function reportKill(r: KillResult): string {
  const row = (name: string, p: Phase) => [
    name,
    String(p.requests),
    String(p.failed),
    String(p.wrong),
    ms(p.p50),
    ms(p.p99),
    ms(p.max),
  ];
  return [
    `### 1. SIGKILL under load (${r.victim} killed; reads through the two others)`,
    table(
      ["phase", "requests", "failed", "wrong", "p50", "p99", "max"],
      [row("before the kill", r.before), row("after the kill", r.after)],
    ),
    ...r.examples.map((e) => `- ${e}`),
  ].join("\n");
}
