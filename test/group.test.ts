import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { type ErrorCode, GeeCacheError, notFound } from "../src/core/errors.ts";
import type { PeerResponse } from "../src/core/protocol.ts";
import type { CacheStats } from "../src/group/caches.ts";
import { Group } from "../src/group/group.ts";
import { MAX_KEY_LENGTH } from "../src/group/keys.ts";
import type { Getter } from "../src/group/loader.ts";
import type { GroupOptions } from "../src/group/options.ts";
import type { PeerClient, PeerPicker } from "../src/group/peers.ts";
import { type GetResult, type GroupStats, noStats } from "../src/group/results.ts";
import { counting } from "./helpers/counting.ts";

const enc = new TextEncoder();

/** ZERO_STATS is a fresh group's counters; tests spread their expected changes over it. */
const ZERO_STATS: GroupStats = noStats();
const EMPTY_CACHE: CacheStats = { bytes: 0, items: 0, gets: 0, hits: 0, evictions: 0 };

/** group builds a group named "g" whose default loader answers `v:<key>`. */
function group(options: Partial<GroupOptions> = {}): Group {
  return new Group({ name: "g", getter: (key) => `v:${key}`, ...options });
}

/** FakePeer is a PeerClient whose answer the test chooses; it records every key it is asked for. */
class FakePeer implements PeerClient {
  readonly keys: string[] = [];
  constructor(
    readonly url: string,
    readonly answer: (key: string) => Promise<PeerResponse>,
  ) {}
  get(_group: string, key: string): Promise<PeerResponse> {
    this.keys.push(key);
    return this.answer(key);
  }
}

/** valuePeer answers `peer:<key>` (or size bytes of 'p') with the given expiry. */
function valuePeer(options: { size?: number; expiresAt?: number } = {}): FakePeer {
  return new FakePeer("http://peer", async (key) => ({
    value: options.size === undefined ? enc.encode(`peer:${key}`) : new Uint8Array(options.size).fill(0x70),
    expiresAt: options.expiresAt ?? 0,
  }));
}

/** pick names peer for every key (or for the keys `owns` accepts) and counts how often it was asked. */
function pick(peer: PeerClient, owns: (key: string) => boolean = () => true): PeerPicker & { calls: number } {
  const picker = {
    calls: 0,
    pickPeer(key: string) {
      picker.calls++;
      return owns(key) ? peer : undefined;
    },
  };
  return picker;
}

/** ownerPeer is a PeerClient that answers from another Group's getLocal, as a real peer server would. */
function ownerPeer(owner: Group): PeerClient {
  return {
    url: "http://owner",
    async get(_group, key, signal) {
      const r = await owner.getLocal(key, { signal });
      return { value: r.value.bytes(), expiresAt: r.expiresAt };
    },
  };
}

/** codeOf runs fn (sync or async) and returns the GeeCacheError code it failed with. */
async function codeOf(fn: () => unknown): Promise<ErrorCode | string> {
  try {
    await fn();
  } catch (err) {
    return err instanceof GeeCacheError ? err.code : `not a GeeCacheError: ${err}`;
  }
  return "no error";
}

/** plain turns a result into plain data for toEqual: the value as text. */
const plain = (r: GetResult | undefined) => r && { value: r.value.toString(), expiresAt: r.expiresAt, from: r.from };

/** bytes is what an entry costs: the key's UTF-8 length plus the value's length. */
const cost = (key: string, value: string | number) =>
  Buffer.byteLength(key) + (typeof value === "number" ? value : Buffer.byteLength(value));

describe("Group get", () => {
  test("1,000 concurrent gets of a missing key call the loader once", async () => {
    const gate = Promise.withResolvers<void>();
    const getter = counting(async (key) => {
      await gate.promise;
      return `v:${key}`;
    });
    const g = group({ getter });
    const all = Array.from({ length: 1000 }, () => g.get("k"));
    gate.resolve();
    const values = await Promise.all(all);
    expect(getter.keys).toEqual(["k"]);
    expect(new Set(values.map(String))).toEqual(new Set(["v:k"]));
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 1000, loads: 1000, loadsDeduped: 1, localLoads: 1 });
  });

  test("the loader is told the group name", async () => {
    const seen: unknown[] = [];
    const g = new Group({ name: "scores", getter: (key, ctx) => (seen.push([key, ctx]), "1") });
    await g.get("k");
    expect(seen).toEqual([["k", { group: "scores" }]]);
  });

  test("a second get is a main-cache hit; bytes are the UTF-8 key plus the value", async () => {
    const getter = counting(() => "valeur");
    const g = group({ getter });
    const first = await g.getEntry("clé");
    const second = await g.getEntry("clé");
    expect({ first: [first.value.toString(), first.from], second: [second.value.toString(), second.from] }).toEqual({
      first: ["valeur", "loader"],
      second: ["valeur", "main"],
    });
    expect(getter.keys).toEqual(["clé"]);
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 2, cacheHits: 1, loads: 1, loadsDeduped: 1, localLoads: 1 });
    const { main, hot } = g.cacheStats();
    expect({ bytes: main.bytes, items: main.items, hits: main.hits, hotItems: hot.items }).toEqual({
      bytes: 4 + 6, // "clé" is 4 bytes
      items: 1,
      hits: 1,
      hotItems: 0,
    });
  });

  test.each<{ name: string; loaded: unknown; want: string }>([
    { name: "string", loaded: "héllo", want: "héllo" },
    { name: "Uint8Array", loaded: enc.encode("bytes"), want: "bytes" },
    { name: "ByteView", loaded: ByteView.from("view"), want: "view" },
    { name: "{ value }", loaded: { value: "wrapped" }, want: "wrapped" },
    { name: "empty string", loaded: "", want: "" },
  ])("a loader may return a $name", async ({ loaded, want }) => {
    const g = group({ getter: () => loaded as never });
    expect((await g.get("k")).toString()).toBe(want);
    expect(g.lookup("k")?.value.toString()).toBe(want);
  });

  test("a Uint8Array from the loader is copied: mutating it later does not change the cache", async () => {
    const src = enc.encode("abc");
    const g = group({ getter: () => src });
    await g.get("k");
    src[0] = 0x7a;
    expect(g.lookup("k")?.value.toString()).toBe("abc");
  });
});

describe("Group key checks", () => {
  test.each<{ name: string; key: unknown; code: ErrorCode }>([
    { name: "empty key", key: "", code: "INVALID_ARGUMENT" },
    { name: "non-string key", key: 42, code: "INVALID_ARGUMENT" },
    { name: "key over MAX_KEY_LENGTH", key: "k".repeat(MAX_KEY_LENGTH + 1), code: "KEY_TOO_LONG" },
    { name: "key over MAX_KEY_LENGTH in UTF-8 bytes", key: "é".repeat(MAX_KEY_LENGTH / 2 + 1), code: "KEY_TOO_LONG" },
  ])(
    "$name: get/getEntry/getLocal/set/remove reject, setLocal/removeLocal throw at once ($code)",
    async ({ key, code }) => {
      const getter = counting(() => "v");
      const g = group({ getter });
      const k = key as string;
      // The async methods reject ...
      expect({
        get: await codeOf(() => g.get(k)),
        getEntry: await codeOf(() => g.getEntry(k)),
        getLocal: await codeOf(() => g.getLocal(k)),
        set: await codeOf(() => g.set(k, "v")),
        remove: await codeOf(() => g.remove(k)),
      }).toEqual({ get: code, getEntry: code, getLocal: code, set: code, remove: code });
      // ... and the sync setLocal/removeLocal throw.
      const sync = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          return (err as GeeCacheError).code;
        }
        return "no throw";
      };
      expect({
        setLocal: sync(() => g.setLocal(k, "v")),
        removeLocal: sync(() => g.removeLocal(k)),
      }).toEqual({ setLocal: code, removeLocal: code });
      expect({ loads: getter.keys.length, stats: g.stats() }).toEqual({ loads: 0, stats: ZERO_STATS });
    },
  );

  test("a key of exactly MAX_KEY_LENGTH is accepted", async () => {
    const g = group({ getter: () => "v" });
    expect((await g.get("k".repeat(MAX_KEY_LENGTH))).toString()).toBe("v");
  });
});

describe("Group not found and load failures", () => {
  test.each<{ name: string; getter: Getter }>([
    { name: "returns undefined", getter: () => undefined },
    { name: "returns null", getter: () => null },
    { name: "resolves undefined", getter: async () => undefined },
    {
      name: "throws notFound()",
      getter: (key) => {
        throw notFound(key);
      },
    },
    { name: "rejects with notFound()", getter: async (key) => Promise.reject(notFound(key, "g")) },
  ])("a loader that $name gives NOT_FOUND, which is not cached", async ({ getter }) => {
    const counted = counting(getter);
    const g = group({ getter: counted });
    expect(await codeOf(() => g.get("missing"))).toBe("NOT_FOUND");
    expect(await codeOf(() => g.get("missing"))).toBe("NOT_FOUND");
    expect({ calls: counted.keys.length, lookup: g.lookup("missing"), items: g.cacheStats().main.items }).toEqual({
      calls: 2,
      lookup: undefined,
      items: 0,
    });
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 2, loads: 2, loadsDeduped: 2, localLoadErrs: 2 });
  });

  test.each<{ name: string; fail: () => unknown; message: string }>([
    {
      name: "throws synchronously",
      fail: () => {
        throw new Error("db down");
      },
      message: "db down",
    },
    {
      name: "rejects",
      fail: async () => {
        throw new Error("timeout");
      },
      message: "timeout",
    },
    {
      name: "throws a string",
      fail: () => {
        throw "plain text";
      },
      message: "plain text",
    },
    { name: "returns a number", fail: () => 42, message: "loader returned number" },
    { name: "returns { value: 42 }", fail: () => ({ value: 42 }), message: "bad value" },
  ])("a loader that $name gives LOAD_FAILED and does not wedge the key", async ({ fail, message }) => {
    let broken = true;
    const getter = counting(() => (broken ? (fail() as never) : "fixed"));
    const g = group({ getter });
    const err = await g.get("k").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GeeCacheError);
    expect((err as GeeCacheError).code).toBe("LOAD_FAILED");
    expect((err as GeeCacheError).message).toContain(message);
    expect((err as GeeCacheError).message).toContain('"k"');
    expect(g.lookup("k")).toBeUndefined();
    broken = false;
    expect((await g.get("k")).toString()).toBe("fixed");
    expect(getter.keys).toEqual(["k", "k"]);
  });

  test("the loader's error is the cause", async () => {
    const boom = new Error("boom");
    const g = group({ getter: () => Promise.reject(boom) });
    const err = (await g.get("k").catch((e: unknown) => e)) as GeeCacheError;
    expect(err.cause).toBe(boom);
  });

  test("a GeeCacheError from the loader passes through with its code", async () => {
    const g = group({
      getter: () => {
        throw new GeeCacheError("TOO_LARGE", "value too big");
      },
    });
    expect(await codeOf(() => g.get("k"))).toBe("TOO_LARGE");
  });
});

describe("Group peers", () => {
  test("a key owned by a peer comes from the peer; the loader is not called", async () => {
    const peer = valuePeer();
    const getter = counting(() => "local");
    const g = group({ getter, peers: pick(peer), hotCacheRatio: 0 });
    const r = await g.getEntry("k");
    expect({ value: r.value.toString(), from: r.from, expiresAt: r.expiresAt }).toEqual({
      value: "peer:k",
      from: "peer",
      expiresAt: 0,
    });
    expect({ peer: peer.keys, loader: getter.keys }).toEqual({ peer: ["k"], loader: [] });
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 1, loads: 1, loadsDeduped: 1, peerLoads: 1 });
  });

  test("the peer's expiry is reported by getEntry", async () => {
    const g = group({ peers: pick(valuePeer({ expiresAt: 5_000 })), now: () => 1_000 });
    expect((await g.getEntry("k")).expiresAt).toBe(5_000);
  });

  test("keys the picker keeps local are loaded locally", async () => {
    const peer = valuePeer();
    const getter = counting((key) => `local:${key}`);
    const g = group({ getter, peers: pick(peer, (k) => k.startsWith("remote")) });
    const [a, b] = await Promise.all([g.getEntry("mine"), g.getEntry("remote-1")]);
    expect([a.value.toString(), a.from, b.value.toString(), b.from]).toEqual([
      "local:mine",
      "loader",
      "peer:remote-1",
      "peer",
    ]);
    expect({ peer: peer.keys, loader: getter.keys }).toEqual({ peer: ["remote-1"], loader: ["mine"] });
  });

  test("a failing peer falls back to a local load and is counted", async () => {
    const peer = new FakePeer("http://down", () => Promise.reject(new Error("ECONNREFUSED")));
    const getter = counting(() => "local");
    const g = group({ getter, peers: pick(peer) });
    const r = await g.getEntry("k");
    expect({ value: r.value.toString(), from: r.from }).toEqual({ value: "local", from: "loader" });
    expect({ peer: peer.keys, loader: getter.keys }).toEqual({ peer: ["k"], loader: ["k"] });
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 1, loads: 1, loadsDeduped: 1, peerErrors: 1, localLoads: 1 });
    // The fallback value is cached in the main cache.
    expect(g.lookup("k")?.from).toBe("hot"); // a fallback load is a short-lived copy, not the owner's value
  });

  test("a peer's NOT_FOUND is final: the loader is not called", async () => {
    const peer = new FakePeer("http://owner", (key) => Promise.reject(notFound(key, "g")));
    const getter = counting(() => "local");
    const g = group({ getter, peers: pick(peer) });
    expect(await codeOf(() => g.get("k"))).toBe("NOT_FOUND");
    expect({ peer: peer.keys, loader: getter.keys, lookup: g.lookup("k") }).toEqual({
      peer: ["k"],
      loader: [],
      lookup: undefined,
    });
    expect(g.stats()).toEqual({ ...ZERO_STATS, gets: 1, loads: 1, loadsDeduped: 1 });
  });

  test("a peer answering from another group's getLocal: the owner loads once and counts server requests", async () => {
    const ownerGetter = counting((key) => `owner:${key}`);
    const owner = new Group({ name: "g", getter: ownerGetter });
    const frontGetter = counting(() => "front");
    const front = group({ getter: frontGetter, peers: pick(ownerPeer(owner)), hotCacheRatio: 0 });
    expect((await front.get("k")).toString()).toBe("owner:k");
    expect((await front.get("k")).toString()).toBe("owner:k");
    expect({ owner: ownerGetter.keys, front: frontGetter.keys }).toEqual({ owner: ["k"], front: [] });
    expect(owner.stats()).toEqual({ ...ZERO_STATS, serverRequests: 2, gets: 2, loads: 1, cacheHits: 1, localLoads: 1 });
    expect(front.stats()).toEqual({ ...ZERO_STATS, gets: 2, loads: 2, loadsDeduped: 2, peerLoads: 2 });
  });
});

describe("Group hot cache", () => {
  test.each<{
    name: string;
    random: number;
    hotCacheRatio?: number;
    peerCalls: number;
    second: GetResult["from"];
    hotItems: number;
  }>([
    { name: "random 0 keeps the value", random: 0, peerCalls: 1, second: "hot", hotItems: 1 },
    { name: "random 0.99 does not", random: 0.99, peerCalls: 2, second: "peer", hotItems: 0 },
    { name: "random 0.09 under the default 0.1 keeps it", random: 0.09, peerCalls: 1, second: "hot", hotItems: 1 },
    { name: "hotCacheRatio 0 never keeps it", random: 0, hotCacheRatio: 0, peerCalls: 2, second: "peer", hotItems: 0 },
    {
      name: "hotCacheRatio 1 always keeps it",
      random: 0.99,
      hotCacheRatio: 1,
      peerCalls: 1,
      second: "hot",
      hotItems: 1,
    },
  ])("$name", async ({ random, hotCacheRatio, peerCalls, second, hotItems }) => {
    const peer = valuePeer();
    const g = group({ peers: pick(peer), random: () => random, hotCacheRatio });
    const a = await g.getEntry("k");
    const b = await g.getEntry("k");
    const { main, hot } = g.cacheStats();
    expect({
      a: a.from,
      b: b.from,
      value: b.value.toString(),
      peerCalls: peer.keys.length,
      hotItems: hot.items,
      mainItems: main.items,
    }).toEqual({
      a: "peer",
      b: second,
      value: "peer:k",
      peerCalls,
      hotItems,
      mainItems: 0,
    });
  });

  test("an already expired peer value is not kept in the hot cache", async () => {
    const peer = valuePeer({ expiresAt: 500 });
    const g = group({ peers: pick(peer), random: () => 0, now: () => 1_000 });
    expect((await g.getEntry("k")).from).toBe("peer");
    expect({ hot: g.cacheStats().hot.items, lookup: g.lookup("k") }).toEqual({ hot: 0, lookup: undefined });
  });
});

describe("Group byte accounting", () => {
  test("replacing a key keeps bytes exact", () => {
    const g = group();
    const steps: [string, number][] = [
      ["k", 10],
      ["k", 100],
      ["k", 5],
      ["k", 0],
      ["other", 7],
      ["k", 50],
    ];
    const sizes = new Map<string, number>();
    for (const [key, size] of steps) {
      g.setLocal(key, new Uint8Array(size));
      sizes.set(key, size);
      const want = [...sizes].reduce((sum, [k, n]) => sum + cost(k, n), 0);
      expect({ bytes: g.cacheStats().main.bytes, items: g.cacheStats().main.items }).toEqual({
        bytes: want,
        items: sizes.size,
      });
    }
  });

  test("under eviction main + hot bytes never exceed cacheBytes and match what is cached", async () => {
    const cacheBytes = 200;
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const peer = new FakePeer("http://peer", async () => ({
      value: new Uint8Array(Math.floor(rnd() * 60)),
      expiresAt: 0,
    }));
    const g = group({ cacheBytes, peers: pick(peer, (k) => k.startsWith("r")), random: () => 0 });
    const values = new Map<string, number>(); // key -> size of its latest value
    for (let i = 0; i < 500; i++) {
      const key = `${rnd() < 0.3 ? "r" : "m"}${Math.floor(rnd() * 20)}`;
      if (key.startsWith("r")) {
        values.set(key, (await g.get(key)).length);
      } else if (rnd() < 0.15) {
        g.removeLocal(key);
      } else {
        const size = Math.floor(rnd() * 80);
        g.setLocal(key, new Uint8Array(size));
        values.set(key, size);
      }
      const { main, hot } = g.cacheStats();
      expect(main.bytes + hot.bytes).toBeLessThanOrEqual(cacheBytes);
      let want = 0;
      let items = 0;
      for (const [k, size] of values) {
        const hit = g.lookup(k);
        if (hit) {
          expect(hit.value.length).toBe(size);
          want += cost(k, size);
          items++;
        }
      }
      expect({ bytes: main.bytes + hot.bytes, items: main.items + hot.items }).toEqual({ bytes: want, items });
    }
    const { main, hot } = g.cacheStats();
    expect(main.evictions + hot.evictions).toBeGreaterThan(0);
  });

  test.each<{ name: string; size: number; stored: boolean }>([
    { name: "an entry of exactly cacheBytes is stored", size: 99, stored: true },
    { name: "an entry one byte over cacheBytes is not stored", size: 100, stored: false },
  ])("$name", ({ size, stored }) => {
    // LRU: a newer entry always displaces older ones (W-TinyLFU admission would weigh their counts first).
    const g = group({ cacheBytes: 100, admission: "lru" });
    g.setLocal("o", "x");
    g.setLocal("k", new Uint8Array(size));
    // A fitting entry pushes the older one out; one that does not fit must not evict anything.
    expect({
      k: g.lookup("k") !== undefined,
      o: g.lookup("o") !== undefined,
      bytes: g.cacheStats().main.bytes,
    }).toEqual({
      k: stored,
      o: !stored,
      bytes: stored ? 100 : 2,
    });
  });

  test("a too-big value replacing a cached one drops the old value instead of serving it", () => {
    const g = group({ cacheBytes: 100 });
    g.setLocal("k", "small");
    g.setLocal("other", "x");
    g.setLocal("k", new Uint8Array(500));
    expect({ k: g.lookup("k"), other: g.lookup("other")?.value.toString(), bytes: g.cacheStats().main.bytes }).toEqual({
      k: undefined,
      other: "x",
      bytes: cost("other", "x"),
    });
  });

  test("a too-big loaded value is returned but not cached", async () => {
    const getter = counting(() => new Uint8Array(500));
    const g = group({ getter, cacheBytes: 100 });
    expect((await g.get("k")).length).toBe(500);
    expect((await g.get("k")).length).toBe(500);
    expect({ calls: getter.keys.length, bytes: g.cacheStats().main.bytes }).toEqual({ calls: 2, bytes: 0 });
  });

  test("cacheBytes 0 stores nothing", async () => {
    const peer = valuePeer();
    const getter = counting(() => "v");
    const g = group({ getter, cacheBytes: 0, peers: pick(peer, (k) => k === "remote"), random: () => 0 });
    g.setLocal("set", "v");
    await g.get("k");
    await g.get("k");
    await g.get("remote");
    const { main, hot } = g.cacheStats();
    expect({
      calls: getter.keys.length,
      peerCalls: peer.keys.length,
      main: [main.bytes, main.items, main.hits],
      hot: [hot.bytes, hot.items, hot.hits],
      lookup: g.lookup("set"),
    }).toEqual({ calls: 2, peerCalls: 1, main: [0, 0, 0], hot: [0, 0, 0], lookup: undefined });
  });

  test("eviction takes from the hot cache while it holds more than an eighth of main's bytes", async () => {
    const g = group({
      cacheBytes: 1000,
      peers: pick(valuePeer({ size: 200 }), (k) => k === "remote"),
      random: () => 0,
    });
    await g.get("remote"); // hot: 6 + 200 = 206
    g.setLocal("a", new Uint8Array(400)); // main: 401
    g.setLocal("b", new Uint8Array(400)); // main: 802, total 1008; 206 > 802 / 8, so hot goes
    const { main, hot } = g.cacheStats();
    expect({ main: [main.bytes, main.items, main.evictions], hot: [hot.bytes, hot.items, hot.evictions] }).toEqual({
      main: [802, 2, 0],
      hot: [0, 0, 1],
    });
    expect([g.lookup("a")?.from, g.lookup("b")?.from, g.lookup("remote")]).toEqual(["main", "main", undefined]);
  });

  test("eviction takes from the main cache while hot holds at most an eighth of main's bytes", async () => {
    const g = group({ cacheBytes: 1000, peers: pick(valuePeer({ size: 50 }), (k) => k === "remote"), random: () => 0 });
    await g.get("remote"); // hot: 6 + 50 = 56
    g.setLocal("a", new Uint8Array(500)); // main: 501
    g.setLocal("b", new Uint8Array(450)); // main: 952, total 1008; 56 <= 952 / 8, so main's oldest ("a") goes
    const { main, hot } = g.cacheStats();
    expect({ main: [main.bytes, main.items, main.evictions], hot: [hot.bytes, hot.items, hot.evictions] }).toEqual({
      main: [451, 1, 1],
      hot: [56, 1, 0],
    });
    expect([g.lookup("a"), g.lookup("b")?.from, g.lookup("remote")?.from]).toEqual([undefined, "main", "hot"]);
  });
});

describe("Group TTL", () => {
  test("group ttl: a value is served until it expires, then reloaded", async () => {
    let t = 10_000;
    let n = 0;
    const getter = counting(() => `v${++n}`);
    const g = group({ getter, ttl: 1_000, now: () => t });
    const a = await g.getEntry("k");
    t = 10_999;
    const b = await g.getEntry("k");
    t = 11_000;
    const c = await g.getEntry("k");
    expect([a, b, c].map((r) => [r.value.toString(), r.from, r.expiresAt])).toEqual([
      ["v1", "loader", 11_000],
      ["v1", "main", 11_000],
      ["v2", "loader", 12_000],
    ]);
    expect(getter.keys).toEqual(["k", "k"]);
  });

  test.each<{ name: string; groupTtl?: number; loaded: unknown; expiresAt: number }>([
    { name: "no ttl: never expires", loaded: "v", expiresAt: 0 },
    { name: "group ttl", groupTtl: 500, loaded: "v", expiresAt: 1_500 },
    { name: "loader ttl", loaded: { value: "v", ttl: 50 }, expiresAt: 1_050 },
    { name: "loader ttl overrides the group's", groupTtl: 500, loaded: { value: "v", ttl: 50 }, expiresAt: 1_050 },
    {
      name: "loader ttl 0 means forever even with a group ttl",
      groupTtl: 500,
      loaded: { value: "v", ttl: 0 },
      expiresAt: 0,
    },
    { name: "loader expiresAt", loaded: { value: "v", expiresAt: 5_000 }, expiresAt: 5_000 },
    {
      name: "loader expiresAt wins over ttl",
      groupTtl: 500,
      loaded: { value: "v", ttl: 50, expiresAt: 5_000 },
      expiresAt: 5_000,
    },
  ])("$name -> expiresAt $expiresAt", async ({ groupTtl, loaded, expiresAt }) => {
    let t = 1_000;
    const g = group({ getter: () => loaded as never, ttl: groupTtl, now: () => t });
    expect((await g.getEntry("k")).expiresAt).toBe(expiresAt);
    expect(plain(g.lookup("k"))).toEqual({ value: "v", expiresAt, from: "main" });
    if (expiresAt > 0) {
      t = expiresAt;
      expect(g.lookup("k")).toBeUndefined();
      expect(g.cacheStats().main.items).toBe(0); // the expired entry was dropped, not just hidden
    }
  });

  test("a loaded value that is already expired is returned but not cached", async () => {
    const getter = counting(() => ({ value: "old", expiresAt: 500 }));
    const g = group({ getter, now: () => 1_000 });
    expect((await g.getEntry("k")).expiresAt).toBe(500);
    await g.get("k");
    expect({ calls: getter.keys.length, items: g.cacheStats().main.items }).toEqual({ calls: 2, items: 0 });
  });

  test("setLocal takes a ttl or an expiresAt", () => {
    let t = 1_000;
    const g = group({ ttl: 10, now: () => t });
    const a = g.setLocal("a", "1");
    const b = g.setLocal("b", "2", { ttl: 100 });
    const c = g.setLocal("c", "3", { expiresAt: 7_000 });
    expect([a.expiresAt, b.expiresAt, c.expiresAt]).toEqual([1_010, 1_100, 7_000]);
    t = 1_100;
    expect([g.lookup("a"), g.lookup("b"), g.lookup("c")?.value.toString()]).toEqual([undefined, undefined, "3"]);
  });

  test("an expired hot value is not served and is fetched again", async () => {
    let t = 0;
    const peer = valuePeer({ expiresAt: 100 });
    const g = group({ peers: pick(peer), random: () => 0, now: () => t });
    expect((await g.getEntry("k")).from).toBe("peer");
    expect((await g.getEntry("k")).from).toBe("hot");
    t = 100;
    expect((await g.getEntry("k")).from).toBe("peer");
    expect(peer.keys).toEqual(["k", "k"]);
  });
});

type Remover = { name: string; remove: (g: Group, key: string) => Promise<unknown> };
type Setter = { name: string; set: (g: Group, key: string, value: string) => Promise<unknown> };
// With no peers the cluster-wide set/remove act on this node only, like setLocal/removeLocal.
const REMOVERS: Remover[] = [
  { name: "removeLocal", remove: async (g, key) => g.removeLocal(key) },
  { name: "remove", remove: (g, key) => g.remove(key) },
];
const SETTERS: Setter[] = [
  { name: "setLocal", set: async (g, key, value) => g.setLocal(key, value) },
  { name: "set", set: (g, key, value) => g.set(key, value) },
];

describe("Group set and remove", () => {
  test("setLocal stores in the main cache and get does not load", async () => {
    const getter = counting(() => "loaded");
    const g = group({ getter });
    expect(plain(g.setLocal("k", "set"))).toEqual({ value: "set", expiresAt: 0, from: "main" });
    const r = await g.getEntry("k");
    expect({ value: r.value.toString(), from: r.from, calls: getter.keys.length }).toEqual({
      value: "set",
      from: "main",
      calls: 0,
    });
  });

  test("set and remove without peers act on this node and report no failed peers", async () => {
    const getter = counting(() => "loaded");
    const g = group({ getter });
    expect(await g.set("k", "set", { ttl: 0 })).toEqual({ failed: [] });
    expect(g.lookup("k")?.value.toString()).toBe("set");
    expect(await g.remove("k")).toEqual({ failed: [] });
    expect(g.lookup("k")).toBeUndefined();
    expect((await g.get("k")).toString()).toBe("loaded");
  });

  test("setLocal replaces a hot copy", async () => {
    const g = group({ peers: pick(valuePeer()), random: () => 0 });
    await g.get("k");
    g.setLocal("k", "mine");
    expect({ hot: g.cacheStats().hot.items, r: [g.lookup("k")?.from, g.lookup("k")?.value.toString()] }).toEqual({
      hot: 0,
      r: ["main", "mine"],
    });
  });

  test("removeLocal drops the key from both caches and reports whether it was cached", async () => {
    const getter = counting(() => "loaded");
    const g = group({ getter, peers: pick(valuePeer(), (k) => k === "remote"), random: () => 0 });
    g.setLocal("k", "set");
    await g.get("remote");
    expect([g.removeLocal("k"), g.removeLocal("k"), g.removeLocal("remote"), g.removeLocal("never")]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(g.cacheStats()).toMatchObject({ main: { items: 0, bytes: 0 }, hot: { items: 0, bytes: 0 } });
    expect((await g.get("k")).toString()).toBe("loaded");
    expect(getter.keys).toEqual(["k"]);
  });

  test.each(REMOVERS)("a $name during an in-flight load wins: the load's value is not cached", async ({ remove }) => {
    const gate = Promise.withResolvers<void>();
    let n = 0;
    const getter = counting(async () => {
      const mine = ++n;
      if (mine === 1) await gate.promise;
      return `load${mine}`;
    });
    const g = group({ getter });
    const pending = g.get("k");
    expect(getter.keys).toEqual(["k"]);
    await remove(g, "k");
    gate.resolve();
    expect((await pending).toString()).toBe("load1"); // the caller still gets its answer
    expect({ lookup: g.lookup("k"), items: g.cacheStats().main.items }).toEqual({ lookup: undefined, items: 0 });
    expect((await g.get("k")).toString()).toBe("load2");
    expect(getter.keys).toEqual(["k", "k"]);
  });

  test.each(REMOVERS)(
    "a get after a $name starts a new load instead of joining the stale one, and its value is kept",
    async ({ remove }) => {
      const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
      let n = 0;
      const getter = counting(async () => {
        const mine = n++;
        await gates[mine]!.promise;
        return `load${mine + 1}`;
      });
      const g = group({ getter });
      const first = g.get("k");
      await remove(g, "k");
      const second = g.get("k");
      expect(getter.keys).toEqual(["k", "k"]);
      gates[0]!.resolve();
      expect((await first).toString()).toBe("load1");
      expect(g.lookup("k")).toBeUndefined();
      gates[1]!.resolve();
      expect((await second).toString()).toBe("load2");
      expect(g.lookup("k")?.value.toString()).toBe("load2");
    },
  );

  test.each(SETTERS)(
    "a $name during an in-flight load wins: afterwards the cache holds the set value",
    async ({ set }) => {
      const gate = Promise.withResolvers<void>();
      const getter = counting(async () => {
        await gate.promise;
        return "loaded";
      });
      const g = group({ getter });
      const pending = g.get("k");
      await set(g, "k", "set");
      gate.resolve();
      expect((await pending).toString()).toBe("loaded");
      const r = await g.getEntry("k");
      expect({ value: r.value.toString(), from: r.from, calls: getter.keys.length }).toEqual({
        value: "set",
        from: "main",
        calls: 1,
      });
    },
  );

  test("a removeLocal during an in-flight peer fetch keeps the value out of the hot cache", async () => {
    const gate = Promise.withResolvers<void>();
    const peer = new FakePeer("http://peer", async () => {
      await gate.promise;
      return { value: enc.encode("remote"), expiresAt: 0 };
    });
    const g = group({ peers: pick(peer), random: () => 0 });
    const pending = g.getEntry("k");
    g.removeLocal("k");
    gate.resolve();
    expect((await pending).from).toBe("peer");
    expect({ lookup: g.lookup("k"), hot: g.cacheStats().hot.items }).toEqual({ lookup: undefined, hot: 0 });
  });
});

describe("Group getLocal", () => {
  test("getLocal never asks the peer picker and counts server requests", async () => {
    const peer = valuePeer();
    const picker = pick(peer);
    const getter = counting((key) => `local:${key}`);
    const g = group({ getter, peers: picker });
    const a = await g.getLocal("k");
    const b = await g.getLocal("k");
    expect([a.value.toString(), a.from, b.value.toString(), b.from]).toEqual(["local:k", "loader", "local:k", "main"]);
    expect({ picker: picker.calls, peer: peer.keys, loader: getter.keys }).toEqual({
      picker: 0,
      peer: [],
      loader: ["k"],
    });
    expect(g.stats()).toEqual({ ...ZERO_STATS, serverRequests: 2, gets: 2, loads: 1, cacheHits: 1, localLoads: 1 });
  });

  test("getLocal does not answer from the hot cache", async () => {
    const getter = counting(() => "local");
    const g = group({ getter, peers: pick(valuePeer()), random: () => 0 });
    expect((await g.getEntry("k")).from).toBe("peer");
    expect(g.lookup("k")?.from).toBe("hot");
    const r = await g.getLocal("k");
    expect({ value: r.value.toString(), from: r.from, loader: getter.keys }).toEqual({
      value: "local",
      from: "loader",
      loader: ["k"],
    });
  });

  test("getLocal shares a load in flight with get", async () => {
    const gate = Promise.withResolvers<void>();
    const getter = counting(async () => {
      await gate.promise;
      return "v";
    });
    const g = group({ getter });
    const a = g.get("k");
    const b = g.getLocal("k");
    gate.resolve();
    expect([(await a).toString(), (await b).value.toString(), getter.keys]).toEqual(["v", "v", ["k"]]);
  });
});

describe("Group AbortSignal", () => {
  test.each<{ name: string; loaded: unknown }>([
    { name: "a key that exists", loaded: "v" },
    { name: "a missing key", loaded: undefined },
  ])("an already aborted signal rejects with ABORTED and starts no load: $name", async ({ loaded }) => {
    const getter = counting(() => loaded as never);
    const g = group({ getter });
    const signal = AbortSignal.abort(new Error("client went away"));
    const err = (await g.get("k", { signal }).catch((e: unknown) => e)) as GeeCacheError;
    const local = (await g.getLocal("k", { signal }).catch((e: unknown) => e)) as GeeCacheError;
    expect({ get: err.code, getLocal: local.code, cause: (err.cause as Error).message, calls: getter.keys }).toEqual({
      get: "ABORTED",
      getLocal: "ABORTED",
      cause: "client went away",
      calls: [],
    });
  });

  test("aborting one waiter does not break the others of the same flight", async () => {
    const gate = Promise.withResolvers<void>();
    const getter = counting(async () => {
      await gate.promise;
      return "v";
    });
    const g = group({ getter });
    const ac = new AbortController();
    const aborted = g.get("k", { signal: ac.signal });
    const plain = g.get("k");
    const other = g.get("k", { signal: new AbortController().signal });
    ac.abort();
    expect(await codeOf(() => aborted)).toBe("ABORTED");
    gate.resolve();
    expect([(await plain).toString(), (await other).toString()]).toEqual(["v", "v"]);
    expect({ calls: getter.keys, cached: g.lookup("k")?.value.toString() }).toEqual({ calls: ["k"], cached: "v" });
  });

  test("a signal that never fires does not change the result or the error", async () => {
    const g = group({ getter: (key) => (key === "missing" ? undefined : "v") });
    const signal = new AbortController().signal;
    expect((await g.get("k", { signal })).toString()).toBe("v");
    expect(await codeOf(() => g.get("missing", { signal }))).toBe("NOT_FOUND");
  });
});

describe("Group options", () => {
  test.each<{
    name: string;
    options: Partial<GroupOptions>;
    error: typeof TypeError | typeof RangeError;
    message: string;
  }>([
    { name: "empty name", options: { name: "" }, error: TypeError, message: "name" },
    { name: "non-string name", options: { name: 1 as never }, error: TypeError, message: "name" },
    { name: "non-function getter", options: { getter: "x" as never }, error: TypeError, message: "getter" },
    { name: "cacheBytes -1", options: { cacheBytes: -1 }, error: RangeError, message: "cacheBytes" },
    { name: "cacheBytes 1.5", options: { cacheBytes: 1.5 }, error: RangeError, message: "cacheBytes" },
    { name: "cacheBytes Infinity", options: { cacheBytes: Infinity }, error: RangeError, message: "cacheBytes" },
    { name: "cacheBytes NaN", options: { cacheBytes: Number.NaN }, error: RangeError, message: "cacheBytes" },
    { name: "ttl -1", options: { ttl: -1 }, error: RangeError, message: "ttl" },
    { name: "hotCacheRatio 2", options: { hotCacheRatio: 2 }, error: RangeError, message: "hotCacheRatio" },
    { name: "hotCacheRatio -0.1", options: { hotCacheRatio: -0.1 }, error: RangeError, message: "hotCacheRatio" },
    { name: "hotCacheRatio NaN", options: { hotCacheRatio: Number.NaN }, error: RangeError, message: "hotCacheRatio" },
  ])("$name throws at construction", ({ options, error, message }) => {
    expect(() => group(options)).toThrow(error);
    expect(() => group(options)).toThrow(message);
  });

  test("defaults", () => {
    const g = group();
    expect({ name: g.name, cacheBytes: g.cacheBytes, ttl: g.ttl, stats: g.stats(), caches: g.cacheStats() }).toEqual({
      name: "g",
      cacheBytes: 64 * 1024 * 1024,
      ttl: 0,
      stats: ZERO_STATS,
      caches: { main: EMPTY_CACHE, hot: EMPTY_CACHE },
    });
  });

  test("stats() is a copy", async () => {
    const g = group();
    const before = g.stats();
    await g.get("k");
    expect(before).toEqual(ZERO_STATS);
  });
});
