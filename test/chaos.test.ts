// The chaos suite's short profile (scripts/chaos, `npm run chaos -- --quick`) against the compiled
// binary, held to each scenario's goal.
import { beforeAll, describe, expect, test } from "bun:test";
import { unavailable } from "../scripts/chaos/_netns.ts";
import { type ChaosResults, runChaos } from "../scripts/chaos/index.ts";
import { JOIN_GOAL } from "../scripts/chaos/join.ts";
import { ORIGIN_GOAL } from "../scripts/chaos/rolling.ts";
import { requireBinary } from "./helpers/process.ts";

/** RUN_TIMEOUT_MS bounds the quick profile, run twice (defaults, then --copies=2): about 100 s. */
const RUN_TIMEOUT_MS = 240_000;

let r: ChaosResults;
/** r2 is the same cluster scenarios with --copies=2. */
let r2: ChaosResults;

beforeAll(async () => {
  requireBinary();
  r = await runChaos({ quick: true });
  r2 = await runChaos({ quick: true, copies: 2, only: ["kill", "rejoin", "writes", "freeze"] });
  process.stdout.write(`chaos --quick took ${(r.seconds + r2.seconds).toFixed(1)} s\n`);
}, RUN_TIMEOUT_MS);

describe("chaos --quick", () => {
  test("every process and namespace it made is gone", () => {
    expect(r.cleanupErrors).toEqual([]);
    const left = Bun.spawnSync(["ip", "netns", "list"], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
    expect(left).not.toContain(`gcchaos${process.pid % 100_000}-`);
  });

  test("SIGKILL under load: 0 failed and 0 wrong answers on the survivors", () => {
    const { before, after } = r.kill!;
    expect(before.requests).toBeGreaterThan(0);
    expect(after.requests).toBeGreaterThan(0);
    expect({
      failed: before.failed + after.failed,
      wrong: before.wrong + after.wrong,
      examples: r.kill!.examples,
    }).toEqual({ failed: 0, wrong: 0, examples: [] });
  });

  test("restart: the node rejoins and every key is served by every node afterwards", () => {
    expect(r.rejoin!.owned).toBeGreaterThan(0);
    expect(r.rejoin!.failedReads).toBe(0);
  });

  test("writes while a node restarts: no key with two values after --hot-ttl, no acknowledged write lost but the killed owner's own", () => {
    const w = r.writes!;
    expect(w.acked).toBeGreaterThan(0);
    expect(w.rounds).toBeGreaterThan(0);
    // With --copies=1 a SIGKILLed owner takes its written values with it until they are written again.
    expect({
      lostElsewhere: w.lostElsewhere,
      divergent: w.divergent,
      lost: w.lost,
      failedReads: w.failedReads,
    }).toEqual({ lostElsewhere: [], divergent: [], lost: [], failedReads: 0 });
  });

  test("the same with --copies=2: not even the killed owner's written values are lost", () => {
    const w = r2.writes!;
    expect(w.acked).toBeGreaterThan(0);
    expect({
      lostWhileDown: w.lostWhileDown,
      divergent: w.divergent,
      lost: w.lost,
      failedReads: w.failedReads,
    }).toEqual({ lostWhileDown: [], divergent: [], lost: [], failedReads: 0 });
  });

  test("--copies=2: SIGKILL under load fails no read; a frozen peer's keys answer fast once its timeout has passed", () => {
    const { before, after } = r2.kill!;
    expect(before.failed + after.failed + before.wrong + after.wrong).toBe(0);
    expect(r2.freeze!.p99Settled).toBeLessThan(50);
    expect(r2.freeze!.failed).toBe(0);
  });

  test("a frozen peer: p99 of its keys < 50 ms once its first peer timeout + 1 s has passed", () => {
    const f = r.freeze!;
    expect(f.requestsSettled).toBeGreaterThan(0);
    expect(f.p99Settled).toBeLessThan(50);
    expect(f.lastSlowStartMs).toBeLessThan(f.settledFromMs);
    expect(f.failed).toBe(0);
  });

  test("the origin down: cached keys 200, uncached keys a one-line 503", () => {
    const o = r.origin!;
    expect(o.cached.requests).toBeGreaterThan(0);
    expect({
      cachedFailed: o.cached.requests - o.cached.ok,
      uncachedOther: o.uncached.other,
      examples: o.cached.examples,
    }).toEqual({ cachedFailed: 0, uncachedOther: 0, examples: [] });
    expect(o.uncached.oneLine503).toBe(o.uncached.requests);
  });

  test.skipIf(unavailable() !== undefined)(
    "a network partition: 0 failed reads through the connected nodes, no key with two values after --hot-ttl",
    () => {
      const p = r.partition!;
      expect(p.skipped).toBeUndefined();
      expect(p.reads).toBeGreaterThan(0);
      expect({ failed: p.failedReads, wrong: p.wrongReads, divergent: p.divergent, examples: p.examples }).toEqual({
        failed: 0,
        wrong: 0,
        divergent: [],
        examples: [],
      });
    },
  );

  test("a rolling restart under the default flags: no acknowledged write lost, no request failed, origin <= 5%", () => {
    const g = r.rolling!;
    expect(g.requests).toBeGreaterThan(0);
    expect(g.acked).toBeGreaterThan(0);
    expect({ lost: g.lost, failed: g.failed, writesRefused: g.writes - g.acked }).toEqual({
      lost: [],
      failed: 0,
      writesRefused: 0,
    });
    expect(g.originLoads).toBeLessThanOrEqual(Math.floor(ORIGIN_GOAL * g.cached));
  });

  test("the same rolling restart with --peers-dns", () => {
    const g = r.rollingDns!;
    if ("skipped" in g) return console.warn(`rolling restart with --peers-dns skipped: ${g.skipped}`);
    expect({ lost: g.lost, failed: g.failed, writesRefused: g.writes - g.acked }).toEqual({
      lost: [],
      failed: 0,
      writesRefused: 0,
    });
    expect(g.originLoads).toBeLessThanOrEqual(Math.floor(ORIGIN_GOAL * g.cached));
  });

  test("a purge under reads on every node: 2xx, then no value from before it", () => {
    const p = r.purge!;
    expect(p.readsAfter).toBeGreaterThan(0);
    expect({ status: p.status, stale: p.staleAfter, failed: p.failed, examples: p.examples }).toEqual({
      status: 204,
      stale: 0,
      failed: 0,
      examples: [],
    });
  });

  test("a node joins: the moved keys first asked 1 s and 8 s after the ring settles cost the origin <= 10%", () => {
    const j = r.join!;
    if ("skipped" in j) return console.warn(`join skipped: ${j.skipped}`);
    expect(j.length).toBeGreaterThan(0);
    expect(j.filter((row) => row.keys === 0 || row.loads > JOIN_GOAL * row.keys)).toEqual([]);
  });
});
