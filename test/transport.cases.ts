// The transport conformance suite: one set of cases that every PeerTransport must pass, run on
// in-process clusters (port 0) by test/transport-<name>.test.ts. Nodes are reached through their
// API (/api) and through clients the transport under test makes.
import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import type { GroupOptions } from "../src/group/options.ts";
import type { GroupStats } from "../src/group/group.ts";
import type { PeerTransport } from "../src/cluster/transport.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import { counting } from "./helpers/counting.ts";

/** TransportOptions are the settings every transport takes: the peers' shared token, the peer timeout in ms, the largest value a peer may write. */
export interface TransportOptions {
  token?: string;
  timeout?: number;
  maxValueBytes?: number;
}

/** TransportFactory names one transport implementation and makes it with the shared settings. */
export interface TransportFactory {
  name: string;
  make(options: TransportOptions): PeerTransport;
}

const GROUP = "scores";
const dec = new TextDecoder();

/**
 * source is node i's loader: `missing-*` keys do not exist, `fail-*` keys fail, `slow-*` keys wait
 * for gate (when node i has one); any other key loads as `<key>@<i>`, so a value names its loader.
 */
const source = (i: number, gate: Promise<void> | undefined) => async (key: string) => {
  if (key.startsWith("missing-")) return undefined;
  if (key.startsWith("fail-")) throw new Error(`node ${i}: the source is down`);
  if (key.startsWith("slow-") && gate) await gate;
  return `${key}@${i}`;
};

/** HarnessOptions shape the nodes of one case. */
interface HarnessOptions {
  transport?: (i: number) => TransportOptions;
  group?: (i: number) => Partial<GroupOptions>;
  /** gate makes node i's loader wait on `slow-*` keys until it resolves. */
  gate?: (i: number) => Promise<void> | undefined;
}

/** Answer is what a case compares of an /api response: the value only when the status is 2xx (error text is not a contract). */
interface Answer {
  status: number;
  value: string | null;
  from: string | null;
}

/** Harness is a started cluster with each node's loader calls and the helpers the cases share. */
interface Harness extends AsyncDisposable {
  c: TestCluster;
  /** loads[i] lists the keys node i's loader was called with, in order. */
  loads: string[][];
  /** api GETs key from node i's /api. */
  api(i: number, key: string): Promise<Answer>;
  stats(i: number): GroupStats;
}

/** stats builds a whole GroupStats from the counters a case expects to be non-zero. */
const counters = (s: Partial<GroupStats>): GroupStats => ({
  gets: 0, cacheHits: 0, peerLoads: 0, peerErrors: 0, loads: 0, loadsDeduped: 0, localLoads: 0, localLoadErrs: 0, serverRequests: 0, ...s,
});

/** outcome settles p into "ok" or the GeeCacheError code it rejected with ("not a GeeCacheError" otherwise). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof GeeCacheError ? err.code : `not a GeeCacheError: ${String(err)}`;
  }
}

/** until polls cond every few ms, failing after limitMs. */
async function until(cond: () => boolean, what: string, limitMs = 3000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

async function harness(factory: TransportFactory, n: number, o: HarnessOptions = {}): Promise<Harness> {
  const loads: string[][] = [];
  const c = await startCluster(n, {
    transport: (i) => factory.make(o.transport?.(i) ?? {}),
    getter: (i) => {
      const g = counting(source(i, o.gate?.(i)));
      loads[i] = g.keys;
      return g;
    },
    group: o.group,
  });
  return {
    c,
    loads,
    async api(i, key) {
      const res = await fetch(`${c.nodes[i]!.httpUrl}/api?group=${GROUP}&key=${encodeURIComponent(key)}`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      return { status: res.status, value: res.ok ? body : null, from: res.headers.get("x-geecache-from") };
    },
    stats: (i) => c.nodes[i]!.group.stats(),
    [Symbol.asyncDispose]: () => c.stop(),
  };
}

/** gated returns a gate promise and a disposable that opens it (declare it after the harness, so it opens before the nodes stop). */
function gated(): { gate: Promise<void>; [Symbol.dispose](): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { gate: promise, [Symbol.dispose]: () => resolve() };
}

/** transportCases registers the conformance cases for one transport. */
export function transportCases(factory: TransportFactory): void {
  describe(`transport ${factory.name}: reads`, () => {
    test("get hit: the owner's cached value and expiry travel; no loader runs", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      const expiresAt = Date.now() + 60_000;
      h.c.nodes[1]!.group.setLocal(key, "stored", { expiresAt });
      const client = factory.make({}).client(h.c.urls[1]!);
      const r = await client.get(GROUP, key);
      expect({ value: dec.decode(r.value), expiresAt: r.expiresAt }).toEqual({ value: "stored", expiresAt });
      expect(await h.api(0, key)).toEqual({ status: 200, value: "stored", from: "peer" });
      expect(h.loads).toEqual([[], [], []]);
      expect(h.stats(1)).toEqual(counters({ gets: 2, cacheHits: 2, serverRequests: 2 }));
    });

    test("get miss: the owner's loader runs, once, on the owner only", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      expect(await h.api(0, key)).toEqual({ status: 200, value: `${key}@1`, from: "peer" });
      expect(await h.api(2, key)).toEqual({ status: 200, value: `${key}@1`, from: "peer" });
      expect(h.loads).toEqual([[], [key], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, peerLoads: 1, loads: 1, loadsDeduped: 1 }));
      expect(h.stats(1)).toEqual(counters({ gets: 2, cacheHits: 1, loads: 1, localLoads: 1, serverRequests: 2 }));
    });

    test("not found: NOT_FOUND from the client, 404 on /api, no local fallback", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1, "missing-");
      const client = factory.make({}).client(h.c.urls[1]!);
      expect(await outcome(client.get(GROUP, key))).toBe("NOT_FOUND");
      expect(await h.api(0, key)).toEqual({ status: 404, value: null, from: null });
      expect(h.loads).toEqual([[], [key, key], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, loads: 1, loadsDeduped: 1 }));
    });

    test("an unknown group is a peer failure, not NOT_FOUND", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      const code = await outcome(client.get("no-such-group", "k"));
      expect(code === "ok" || code === "NOT_FOUND").toBe(false);
    });

    test("source failure: the client's error is not NOT_FOUND; /api falls back, fails too, answers 503", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1, "fail-");
      const client = factory.make({}).client(h.c.urls[1]!);
      const code = await outcome(client.get(GROUP, key));
      expect(code === "ok" || code === "NOT_FOUND").toBe(false);
      expect(await h.api(0, key)).toEqual({ status: 503, value: null, from: null });
      expect(h.loads).toEqual([[key], [key, key], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, peerErrors: 1, loads: 1, loadsDeduped: 1, localLoadErrs: 1 }));
    });

    test("a peer's request is never forwarded: a non-owner answers it from its own loader", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      const client = factory.make({}).client(h.c.urls[2]!);
      const r = await client.get(GROUP, key);
      expect({ value: dec.decode(r.value), expiresAt: r.expiresAt }).toEqual({ value: `${key}@2`, expiresAt: 0 });
      expect(h.loads).toEqual([[], [], [key]]);
      expect([h.stats(0), h.stats(1), h.stats(2)]).toEqual([counters({}), counters({}), counters({ gets: 1, loads: 1, localLoads: 1, serverRequests: 1 })]);
    });
  });
}
