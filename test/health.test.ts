import { describe, expect, test } from "bun:test";
import { withHealth } from "../src/cluster/health.ts";
import { PeerSet } from "../src/cluster/peer-set.ts";
import type { TransportClient } from "../src/cluster/transport.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import type { PeerResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { keysOwnedBy } from "./helpers/owned-keys.ts";

/** scripted is a client whose next answers a test sets: a value, an error code, or a promise that never settles. */
function scripted() {
  const calls: string[] = [];
  let next: () => Promise<PeerResponse> = () => Promise.resolve({ value: new TextEncoder().encode("v"), expiresAt: 0 });
  let probe: () => Promise<void> = () => Promise.reject(new GeeCacheError("PEER_FAILED", "refused"));
  const client: TransportClient = {
    url: "http://peer",
    get: (_g, key) => {
      calls.push(key);
      return next();
    },
    probe: async () => {
      await probe();
      return undefined;
    },
  };
  return {
    client,
    calls,
    answer: (f: () => Promise<PeerResponse>) => (next = f),
    probeAnswers: (f: () => Promise<void>) => (probe = f),
  };
}

const fail = (code: "PEER_FAILED" | "NOT_FOUND" | "ABORTED") => () =>
  Promise.reject(new GeeCacheError(code, code.toLowerCase()));

describe("withHealth", () => {
  test("three failures in a row mark the peer down; then requests fail at once without reaching it", async () => {
    const s = scripted();
    const events: string[] = [];
    const h = withHealth(s.client, { probeMin: 60_000, onDown: (p, st) => events.push(`down ${p} ${st.failures}`) });
    s.answer(fail("PEER_FAILED"));
    for (const k of ["a", "b", "c", "d", "e"]) await h.get("g", k).catch(() => {});
    const err = (await h.get("g", "f").catch((e: unknown) => e)) as GeeCacheError;
    h.stop();
    expect({ calls: s.calls, events, code: err.code, down: h.health().down }).toEqual({
      calls: ["a", "b", "c"],
      events: ["down http://peer 3"],
      code: "PEER_FAILED",
      down: true,
    });
  });

  test("a missing key and the caller's abort are not failures; a success resets the count", async () => {
    const s = scripted();
    const h = withHealth(s.client, { probeMin: 60_000 });
    for (const f of [
      fail("PEER_FAILED"),
      fail("PEER_FAILED"),
      fail("NOT_FOUND"),
      fail("PEER_FAILED"),
      fail("ABORTED"),
      fail("PEER_FAILED"),
    ]) {
      s.answer(f);
      await h.get("g", "k").catch(() => {});
    }
    h.stop();
    expect(h.health()).toEqual({ down: false, since: null, failures: 2, lastError: "peer_failed" });
  });

  test("a peer whose source fails (LOAD_FAILED) answered: it is never marked down for it", async () => {
    const s = scripted();
    const h = withHealth(s.client, { probeMin: 60_000 });
    s.answer(() => Promise.reject(new GeeCacheError("LOAD_FAILED", "origin down")));
    for (const k of ["a", "b", "c", "d", "e"]) await h.get("g", k).catch(() => {});
    h.stop();
    expect({ calls: s.calls, health: h.health() }).toEqual({
      calls: ["a", "b", "c", "d", "e"],
      health: { down: false, since: null, failures: 0, lastError: null },
    });
  });

  test("one probe at a time with a doubling backoff; the first answer brings the peer back up, reported once", async () => {
    const s = scripted();
    const probes: number[] = [];
    let t0 = 0;
    const up = Promise.withResolvers<number>();
    const h = withHealth(s.client, { probeMin: 20, probeMax: 80, onUp: (_p, _ms, failures) => up.resolve(failures) });
    s.answer(fail("PEER_FAILED"));
    for (let i = 0; i < 3; i++) await h.get("g", "k").catch(() => {});
    t0 = performance.now();
    let inFlight = 0;
    let maxInFlight = 0;
    s.probeAnswers(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      probes.push(performance.now() - t0);
      await Bun.sleep(1);
      inFlight--;
      if (probes.length < 4) throw new GeeCacheError("PEER_FAILED", "still down");
    });
    const failures = await up.promise;
    const gaps = probes.slice(1).map((t, i) => t - probes[i]!);
    s.answer(() => Promise.resolve({ value: new Uint8Array([1]), expiresAt: 0 }));
    const after = await h.get("g", "k2");
    h.stop();
    expect({ probes: probes.length, maxInFlight, failures, upNow: !h.health().down, value: [...after.value] }).toEqual({
      probes: 4,
      maxInFlight: 1,
      failures: 3,
      upNow: true,
      value: [1],
    });
    // 20, 40, 80, 80 ms: each gap at least the backoff before it (timers never fire early).
    expect(gaps.map((g, i) => g >= [40, 80, 80][i]! - 2)).toEqual([true, true, true]);
  });

  test("a new boot id in a peer's answer is a restart", async () => {
    const s = scripted();
    const restarts: string[] = [];
    const h = withHealth(s.client, { onRestart: (p) => restarts.push(p) });
    for (const boot of ["b1", "b1", undefined, "b2", "b2"]) {
      s.answer(() => Promise.resolve({ value: new Uint8Array(), expiresAt: 0, boot }));
      await h.get("g", "k");
    }
    h.stop();
    expect(restarts).toEqual(["http://peer"]);
  });
});

describe("a frozen peer (accepts, never answers) behind a real socket", () => {
  test("after the first timeouts it leaves the ring: this node is its keys' stand-in owner and serves them at once", async () => {
    const hung = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    const peerUrl = `http://127.0.0.1:${hung.port}`;
    const peers = new PeerSet({
      self: "http://127.0.0.1:1",
      transports: [httpTransport({ timeout: 200 })],
      health: { probeMin: 60_000 },
    });
    peers.setPeers(["http://127.0.0.1:1", peerUrl]);
    let now = 1_000_000;
    const group = new Registry().add(
      new Group({ name: "scores", getter: (k) => `local:${k}`, peers, hotTtl: 5000, now: () => now }),
    );
    const keys = keysOwnedBy(peers, peerUrl, 8, "k");
    try {
      const first = await Promise.all(
        keys.slice(0, 3).map(async (k) => {
          const t = performance.now();
          await group.get(k);
          return performance.now() - t;
        }),
      );
      const later: number[] = [];
      for (const k of keys.slice(3)) {
        const t = performance.now();
        expect((await group.getEntry(k)).from).toBe("loader");
        later.push(performance.now() - t);
      }
      const cached = group.lookup(keys[3]!)?.from;
      now += 5000;
      const afterHotTtl = group.lookup(keys[3]!)?.from;
      expect({
        firstPaidTimeout: first.every((ms) => ms >= 190),
        laterFast: later.every((ms) => ms < 50),
        down: peers.health().get(peerUrl)?.down,
        out: peers.out().get(peerUrl),
        standIn: keys.every((k) => peers.owner(k) === "http://127.0.0.1:1"),
        cached,
        afterHotTtl,
      }).toEqual({
        firstPaidTimeout: true,
        laterFast: true,
        down: true,
        out: "down",
        standIn: true,
        cached: "main",
        afterHotTtl: "main",
      });
    } finally {
      await peers.close();
      hung.stop(true);
    }
  });
});
