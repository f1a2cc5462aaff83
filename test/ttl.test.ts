// Expiry: group and per-value TTLs, freeing expired memory, hot copies, the wire, stale-while-revalidate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PeerResponse } from "../src/core/protocol.ts";
import type { CacheStats } from "../src/group/caches.ts";
import { Group } from "../src/group/group.ts";
import type { LoadedValue } from "../src/group/loader.ts";
import type { GroupOptions } from "../src/group/options.ts";
import type { PeerClient } from "../src/group/peers.ts";
import type { GetResult } from "../src/group/results.ts";
import { startCluster, type TestCluster, type TestNode } from "./helpers/cluster.ts";
import { counting } from "./helpers/counting.ts";

const T0 = 1_000_000;

/** Clock is a fake clock a group reads; tests move `t` by hand. */
interface Clock {
  t: number;
  now: () => number;
}

function clock(): Clock {
  const c: Clock = { t: T0, now: () => c.t };
  return c;
}

/** plain turns a result into plain data for toEqual: the value as text. */
const plain = (r: GetResult | undefined) => r && { value: r.value.toString(), expiresAt: r.expiresAt, from: r.from };
/** size is the part of a cache's figures that says how much it holds. */
const size = (s: CacheStats) => ({ bytes: s.bytes, items: s.items });
/**
 * settle lets every pending promise callback run (one event-loop turn), e.g. a background load whose gate just opened.
 */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function group(c: Clock, options: Partial<GroupOptions>): Group {
  return new Group({ name: "g", getter: (key) => `v:${key}`, now: c.now, ...options });
}

describe("expiry of loaded values", () => {
  const cases: { name: string; ttl: number; loaded: (t: number) => LoadedValue; expiresAt: number }[] = [
    { name: "group ttl applies to a bare value", ttl: 1000, loaded: () => "v", expiresAt: T0 + 1000 },
    {
      name: "a value's ttl overrides the group's",
      ttl: 1000,
      loaded: () => ({ value: "v", ttl: 50 }),
      expiresAt: T0 + 50,
    },
    {
      name: "a value's expiresAt overrides the group's",
      ttl: 1000,
      loaded: (t) => ({ value: "v", expiresAt: t + 7 }),
      expiresAt: T0 + 7,
    },
    {
      name: "a value's ttl applies without a group ttl",
      ttl: 0,
      loaded: () => ({ value: "v", ttl: 200 }),
      expiresAt: T0 + 200,
    },
    {
      name: "expiresAt wins over ttl in one answer",
      ttl: 0,
      loaded: (t) => ({ value: "v", ttl: 200, expiresAt: t + 30 }),
      expiresAt: T0 + 30,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: served until ${c.expiresAt - T0} ms, reloaded from then on`, async () => {
      const clk = clock();
      const getter = counting(() => c.loaded(clk.t));
      const g = group(clk, { ttl: c.ttl, getter });
      const first = plain(await g.getEntry("k"));
      clk.t = c.expiresAt - 1;
      const last = plain(await g.getEntry("k"));
      clk.t = c.expiresAt;
      const after = plain(await g.getEntry("k"));
      expect({ first, last, after, loads: getter.keys.length }).toEqual({
        first: { value: "v", expiresAt: c.expiresAt, from: "loader" },
        last: { value: "v", expiresAt: c.expiresAt, from: "main" },
        after: { value: "v", expiresAt: c.expiresAt + (c.expiresAt - T0), from: "loader" },
        loads: 2,
      });
    });
  }

  test("without any ttl a value never expires, and ttl 0 on a value means forever despite the group's", async () => {
    const clk = clock();
    const getter = counting((key) => (key === "forever" ? { value: "f", ttl: 0 } : "plain"));
    const plainGroup = group(clk, { getter });
    const ttlGroup = group(clk, { ttl: 10, getter });
    await Promise.all([plainGroup.get("k"), ttlGroup.get("forever")]);
    clk.t += 1e12;
    expect([plain(plainGroup.lookup("k")), plain(ttlGroup.lookup("forever"))]).toEqual([
      { value: "plain", expiresAt: 0, from: "main" },
      { value: "f", expiresAt: 0, from: "main" },
    ]);
    expect(getter.keys).toEqual(["k", "forever"]);
  });

  test("an expired value is never served, and its bytes are freed when it is touched", async () => {
    const clk = clock();
    const getter = counting(() => "value");
    const g = group(clk, { ttl: 1000, getter });
    await g.get("key");
    expect(size(g.cacheStats().main)).toEqual({ bytes: 3 + 5, items: 1 });
    clk.t = T0 + 1000;
    expect(g.lookup("key")).toBeUndefined();
    expect(size(g.cacheStats().main)).toEqual({ bytes: 0, items: 0 });
    expect(getter.keys).toEqual(["key"]);
  });
});

describe("sweep", () => {
  test("frees expired entries nobody touches and returns how many", async () => {
    const clk = clock();
    const g = group(clk, { ttl: 1000, getter: (key) => (key.startsWith("keep") ? { value: "x", ttl: 0 } : "x") });
    for (const k of ["a", "b", "c", "keep1", "keep2"]) await g.get(k);
    expect(size(g.cacheStats().main)).toEqual({ bytes: 3 * 2 + 2 * 6, items: 5 });
    const early = g.sweep();
    clk.t = T0 + 1000;
    const freed = g.sweep();
    const again = g.sweep();
    expect({ early, freed, again, main: size(g.cacheStats().main) }).toEqual({
      early: 0,
      freed: 3,
      again: 0,
      main: { bytes: 2 * 6, items: 2 },
    });
  });

  test("is bounded: budget 10 over 100 expired entries frees at most 10 a call, and all of them in the end", async () => {
    const clk = clock();
    const g = group(clk, { ttl: 1000 });
    for (let i = 0; i < 100; i++) await g.get(`k${i}`);
    clk.t = T0 + 5000;
    const calls: number[] = [];
    while (g.cacheStats().main.items > 0 && calls.length < 100) calls.push(g.sweep(10));
    expect(calls.every((n) => n <= 10)).toBe(true);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(100);
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(size(g.cacheStats().main)).toEqual({ bytes: 0, items: 0 });
  });

  test("keeps a value that may still be served stale, frees it once the stale window is over", async () => {
    const clk = clock();
    const g = group(clk, { ttl: 1000, stale: 5000 });
    await g.get("k");
    clk.t = T0 + 1500;
    const inWindow = g.sweep();
    clk.t = T0 + 6000;
    const past = g.sweep();
    expect({ inWindow, past, main: size(g.cacheStats().main) }).toEqual({
      inWindow: 0,
      past: 1,
      main: { bytes: 0, items: 0 },
    });
  });

  test("frees an expired hot copy at its expiry: the stale window is for owned values only", async () => {
    const clk = clock();
    const peer = new FakePeer([{ value: new TextEncoder().encode("hot"), expiresAt: T0 + 500 }]);
    const g = group(clk, { stale: 5000, hotCacheRatio: 1, random: () => 0, peers: { pickPeer: () => peer } });
    await g.get("k");
    const before = size(g.cacheStats().hot);
    clk.t = T0 + 500;
    const freed = g.sweep();
    expect({ before, freed, hot: size(g.cacheStats().hot) }).toEqual({
      before: { bytes: 1 + 3, items: 1 },
      freed: 1,
      hot: { bytes: 0, items: 0 },
    });
  });
});

/** FakePeer answers from a list, one answer per get, and records the keys it was asked for. */
class FakePeer implements PeerClient {
  readonly url = "http://owner";
  readonly keys: string[] = [];
  constructor(readonly answers: PeerResponse[]) {}
  async get(_group: string, key: string): Promise<PeerResponse> {
    this.keys.push(key);
    const a = this.answers[this.keys.length - 1];
    if (!a) throw new Error(`FakePeer: no answer #${this.keys.length}`);
    return a;
  }
}

describe("hot cache", () => {
  test("a hot copy keeps the owner's expiry and is not served after it, even with stale on", async () => {
    const clk = clock();
    const enc = new TextEncoder();
    const peer = new FakePeer([
      { value: enc.encode("one"), expiresAt: T0 + 500 },
      { value: enc.encode("two"), expiresAt: T0 + 2000 },
    ]);
    const getter = counting(() => "local");
    const g = group(clk, {
      ttl: 60_000,
      stale: 60_000,
      getter,
      hotCacheRatio: 1,
      random: () => 0,
      peers: { pickPeer: () => peer },
    });
    const fetched = plain(await g.getEntry("k"));
    clk.t = T0 + 499;
    const hot = plain(await g.getEntry("k"));
    clk.t = T0 + 500;
    const looked = plain(g.lookup("k"));
    const refetched = plain(await g.getEntry("k"));
    expect({ fetched, hot, looked, refetched, asked: peer.keys.length, loaded: getter.keys.length }).toEqual({
      fetched: { value: "one", expiresAt: T0 + 500, from: "peer" },
      hot: { value: "one", expiresAt: T0 + 500, from: "hot" },
      looked: undefined,
      refetched: { value: "two", expiresAt: T0 + 2000, from: "peer" },
      asked: 2,
      loaded: 0,
    });
  });
});

describe("expiry across real peers (protobuf field 3)", () => {
  const TTL = 60_000;
  let cluster: TestCluster;
  const groupOf = (i: number) => cluster.nodes[i]!.group;

  beforeAll(async () => {
    // Node i's value names the node (its URL is known once it listens, before any load).
    cluster = await startCluster(2, {
      getter: (i) => (key) => ({ value: `${key}@${cluster.urls[i]}`, ttl: TTL }),
      group: () => ({ hotCacheRatio: 0 }),
    });
  });
  afterAll(() => cluster.stop());

  test("a non-owner reports the owner's expiry: in getEntry and as the API's expires header", async () => {
    const [a, b] = cluster.nodes as [TestNode, TestNode];
    const key = cluster.keyOwnedBy(1);
    const before = Date.now();
    const res = await fetch(`${a.httpUrl}/api?key=${key}`);
    const body = await res.text();
    const owned = groupOf(1).lookup(key)!;
    expect(owned.expiresAt).toBeGreaterThanOrEqual(before + TTL);
    const viaPeer = await groupOf(0).getEntry(key);
    expect({
      status: res.status,
      body,
      from: res.headers.get("x-geecache-from"),
      expires: res.headers.get("expires"),
      entry: plain(viaPeer),
    }).toEqual({
      status: 200,
      body: `${key}@${b.url}`,
      from: "peer",
      expires: new Date(owned.expiresAt).toUTCString(),
      entry: { value: `${key}@${b.url}`, expiresAt: owned.expiresAt, from: "peer" },
    });
    expect(groupOf(0).stats()).toMatchObject({ peerLoads: 2, peerErrors: 0, localLoads: 0 });
  });
});

describe("stale-while-revalidate (ttl 1000, stale 5000)", () => {
  /** staleGroup loads "old" first; later loads wait for the returned gate and answer "new". */
  function staleGroup() {
    const clk = clock();
    const gate = Promise.withResolvers<void>();
    const getter = counting(async () => {
      if (getter.keys.length === 1) return "old";
      await gate.promise;
      return "new";
    });
    const g = group(clk, { ttl: 1000, stale: 5000, getter });
    return { clk, gate, getter, g };
  }

  test("past the ttl the old value is served at once while exactly one background load refreshes it", async () => {
    const { clk, gate, getter, g } = staleGroup();
    await g.get("k");
    clk.t = T0 + 1500;
    const served = plain(await g.getEntry("k"));
    const during = (await Promise.all(Array.from({ length: 10 }, () => g.getEntry("k")))).map(plain);
    const loadsDuring = getter.keys.length;
    gate.resolve();
    await settle();
    const next = plain(await g.getEntry("k"));
    expect({
      served,
      during: new Set(during.map((d) => JSON.stringify(d))).size,
      loadsDuring,
      next,
      loads: getter.keys.length,
    }).toEqual({
      served: { value: "old", expiresAt: T0 + 1000, from: "main" },
      during: 1,
      loadsDuring: 2,
      next: { value: "new", expiresAt: T0 + 1500 + 1000, from: "main" },
      loads: 2,
    });
    expect(during[0]).toEqual(served);
    expect(g.stats()).toMatchObject({ localLoads: 2, localLoadErrs: 0 });
  });

  const edges: { at: number; served: string; from: GetResult["from"]; loads: number }[] = [
    { at: 999, served: "old", from: "main", loads: 1 }, // fresh: no reload
    { at: 1000, served: "old", from: "main", loads: 2 }, // just expired: stale, one reload starts
    { at: 5999, served: "old", from: "main", loads: 2 }, // last stale ms
    { at: 6000, served: "new", from: "loader", loads: 2 }, // past ttl + stale: the get waits for the loader
  ];
  for (const e of edges) {
    test(`at +${e.at} ms a get answers ${e.served} from ${e.from}`, async () => {
      const { clk, gate, getter, g } = staleGroup();
      await g.get("k");
      clk.t = T0 + e.at;
      const pending = g.getEntry("k");
      gate.resolve();
      const r = await pending;
      await settle();
      expect({ value: r.value.toString(), from: r.from, loads: getter.keys.length }).toEqual({
        value: e.served,
        from: e.from,
        loads: e.loads,
      });
    });
  }

  test("a failed background load is counted and the old value is still served", async () => {
    const clk = clock();
    const getter = counting(() => {
      if (getter.keys.length > 1) throw new Error("source down");
      return "old";
    });
    const g = group(clk, { ttl: 1000, stale: 5000, getter });
    await g.get("k");
    clk.t = T0 + 2000;
    const first = plain(await g.getEntry("k"));
    await settle();
    const second = plain(await g.getEntry("k"));
    await settle();
    expect({ first, second, loads: getter.keys.length, errs: g.stats().localLoadErrs }).toEqual({
      first: { value: "old", expiresAt: T0 + 1000, from: "main" },
      second: { value: "old", expiresAt: T0 + 1000, from: "main" },
      loads: 3,
      errs: 2,
    });
  });
});
