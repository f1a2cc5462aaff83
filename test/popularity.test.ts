import { describe, expect, test } from "bun:test";
import type { PeerResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import type { PeerClient } from "../src/group/peers.ts";
import { hotChoice, POPULARITY_TAU_MS, Popularity } from "../src/group/popularity.ts";

/** clock is a hand-moved time source. */
function clock(t = 1_000_000) {
  return {
    t,
    now() {
      return this.t;
    },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

describe("Popularity", () => {
  test("a key asked once reads 0; a second request within the first second reads 1 per second", () => {
    const c = clock();
    const p = new Popularity(() => c.now());
    const first = p.recordRate("k");
    c.t += 10;
    expect({ first, second: round3(p.recordRate("k")), other: p.rate("other") }).toEqual({
      first: 0,
      second: 1,
      other: 0,
    });
  });

  test.each<{ name: string; perSecond: number; seconds: number }>([
    { name: "5/s after 2 s (younger than a minute: averaged over its age)", perSecond: 5, seconds: 2 },
    { name: "5/s after 30 s", perSecond: 5, seconds: 30 },
    { name: "5/s after 5 minutes (the decayed count)", perSecond: 5, seconds: 300 },
    { name: "0.5/s after 10 minutes", perSecond: 0.5, seconds: 600 },
    { name: "200/s after 10 s", perSecond: 200, seconds: 10 },
  ])("a steady $name reads that rate", ({ perSecond, seconds }) => {
    const c = clock();
    const p = new Popularity(() => c.now());
    const gap = 1000 / perSecond;
    let last = 0;
    for (let i = 0; i <= perSecond * seconds; i++) {
      last = p.recordRate("k");
      c.t += gap;
    }
    c.t -= gap;
    expect(Math.abs(last - perSecond) / perSecond).toBeLessThan(0.02);
  });

  test("a key nobody asks for any more decays with the one-minute time constant", () => {
    const c = clock();
    const p = new Popularity(() => c.now());
    for (let i = 0; i < 3000; i++) {
      p.recordRate("k");
      c.t += 100; // 10/s for 5 minutes
    }
    const before = p.rate("k");
    c.t += POPULARITY_TAU_MS;
    // e^-1, less a little: the window the count is divided by still grows (1 − e^(−age/tau)).
    expect({ before: Math.round(before), ratio: Math.round((p.rate("k") / before) * 100) / 100 }).toEqual({
      before: 10,
      ratio: 0.37,
    });
  });

  test("it measures at most `capacity` keys; a new key displaces a little-asked one, never the popular one", () => {
    const c = clock();
    const p = new Popularity(() => c.now(), 64);
    for (let i = 0; i < 100; i++) {
      p.recordRate("hot");
      c.t += 10;
    }
    for (let i = 0; i < 1000; i++) {
      p.recordRate(`cold${i}`);
      p.recordRate("hot");
      c.t += 10;
    }
    expect({ size: p.size, hot: p.rate("hot") > 50, oldCold: p.rate("cold0") }).toEqual({
      size: 64,
      hot: true,
      oldCold: 0,
    });
  });

  test("a capacity below 1 is refused", () => {
    expect(() => new Popularity(Date.now, 0)).toThrow("Popularity capacity must be a whole number >= 1, got 0");
  });
});

describe("hotChoice", () => {
  test.each<{
    name: string;
    hotQps: number;
    ratio: number;
    random: number;
    reported: number | undefined;
    keep: boolean;
  }>([
    { name: "a reported rate at the threshold keeps", hotQps: 2, ratio: 0.1, random: 0.99, reported: 2, keep: true },
    {
      name: "a reported rate under it does not, whatever the coin",
      hotQps: 2,
      ratio: 0.1,
      random: 0,
      reported: 1.99,
      keep: false,
    },
    { name: "no report: the coin, heads", hotQps: 2, ratio: 0.1, random: 0.05, reported: undefined, keep: true },
    { name: "no report: the coin, tails", hotQps: 2, ratio: 0.1, random: 0.5, reported: undefined, keep: false },
    {
      name: "hotQps 0: the coin even with a high rate (tails)",
      hotQps: 0,
      ratio: 0.1,
      random: 0.5,
      reported: 1000,
      keep: false,
    },
    {
      name: "hotQps 0: the coin even with a low rate (heads)",
      hotQps: 0,
      ratio: 0.1,
      random: 0.05,
      reported: 0.01,
      keep: true,
    },
    {
      name: "hotCacheRatio 0: nothing, whatever the rate",
      hotQps: 1,
      ratio: 0,
      random: 0,
      reported: 1000,
      keep: false,
    },
  ])("$name", ({ hotQps, ratio, random, reported, keep }) => {
    expect(hotChoice(hotQps, ratio, () => random)(reported)).toBe(keep);
  });
});

/** ownerClient answers from owner.getLocal, as the transports do, with the rate it reports. */
function ownerClient(owner: Group): PeerClient & { asked: number } {
  return {
    url: "http://owner",
    asked: 0,
    async get(_group: string, key: string): Promise<PeerResponse> {
      this.asked++;
      const r = await owner.getLocal(key);
      return { value: r.value.bytes(), expiresAt: r.expiresAt, minuteQps: r.minuteQps };
    },
  };
}

/** OWNS_ALL is the picker of a node that owns every key: a node with peers, whose rates are asked for. */
const OWNS_ALL = { pickPeer: () => undefined };

describe("Group with measured popularity", () => {
  test("the owner reports each key's rate to peers, counting its own gets of the key too", async () => {
    const c = clock();
    const owner = new Group({ name: "g", getter: (k) => `v:${k}`, peers: OWNS_ALL, now: () => c.now() });
    const first = await owner.getLocal("k"); // a miss: loaded
    c.t += 100;
    await owner.getEntry("k"); // the owner's own API get, a main hit
    c.t += 100;
    const third = await owner.getLocal("k");
    const other = await owner.getLocal("other");
    expect({
      first: first.minuteQps,
      third: Math.round(third.minuteQps! * 100) / 100,
      other: other.minuteQps,
      from: [first.from, third.from],
    }).toEqual({ first: 0, third: 2, other: 0, from: ["loader", "main"] });
  });

  test("a group without peers does not count its own gets (nobody asks it for rates)", async () => {
    const c = clock();
    const alone = new Group({ name: "g", getter: (k) => `v:${k}`, now: () => c.now() });
    for (let i = 0; i < 5; i++) await alone.getEntry("k"); // one load (counted), four main hits (not)
    c.t += 10;
    expect((await alone.getLocal("k")).minuteQps).toBeCloseTo(1, 2);
  });

  test.each<{ name: string; hotQps?: number; random: number; ownerGets: number; hot: boolean }>([
    { name: "a rate of 2/s >= hotQps 1 is kept, though the coin says no", random: 0.99, ownerGets: 2, hot: true },
    { name: "a rate of 0 < hotQps 1 is not, though the coin says yes", random: 0, ownerGets: 0, hot: false },
    { name: "a rate of 2/s < hotQps 3 is not", hotQps: 3, random: 0, ownerGets: 2, hot: false },
    { name: "hotQps 0 tosses the coin whatever the rate: tails", hotQps: 0, random: 0.99, ownerGets: 2, hot: false },
    { name: "hotQps 0 tosses the coin whatever the rate: heads", hotQps: 0, random: 0.05, ownerGets: 0, hot: true },
  ])("a non-owner: $name", async ({ hotQps, random, ownerGets, hot }) => {
    const c = clock();
    const owner = new Group({ name: "g", getter: (k) => `v:${k}`, peers: OWNS_ALL, now: () => c.now() });
    for (let i = 0; i < ownerGets; i++) {
      await owner.getEntry("k"); // the first loads (a clock start only), the rest count
      c.t += 10;
    }
    const client = ownerClient(owner);
    const front = new Group({
      name: "g",
      getter: () => "front",
      peers: { pickPeer: () => client },
      hotQps,
      random: () => random,
      now: () => c.now(),
    });
    const a = await front.getEntry("k");
    const hotItems = front.cacheStats().hot.items;
    const b = await front.getEntry("k"); // from the hot copy, or from the owner again
    expect({ a: a.from, hotItems, b: b.from, asked: client.asked }).toEqual({
      a: "peer",
      hotItems: hot ? 1 : 0,
      b: hot ? "hot" : "peer",
      asked: hot ? 1 : 2,
    });
  });

  test("a peer that reports no rate (Go GeeCache, groupcache) gets the coin", async () => {
    for (const [random, hot] of [
      [0.05, true],
      [0.5, false],
    ] as const) {
      const client = { url: "http://go", get: async () => ({ value: new TextEncoder().encode("go"), expiresAt: 0 }) };
      const front = new Group({
        name: "g",
        getter: () => "front",
        peers: { pickPeer: () => client },
        hotQps: 1,
        random: () => random,
      });
      await front.getEntry("k");
      expect({ random, hot: front.cacheStats().hot.items === 1 }).toEqual({ random, hot });
    }
  });

  test("hotQps must be a finite number >= 0", () => {
    expect(() => new Group({ name: "g", getter: () => "v", hotQps: -1 })).toThrow(
      "Group g: hotQps must be a finite number >= 0, got -1",
    );
    expect(() => new Group({ name: "g", getter: () => "v", hotQps: Number.NaN })).toThrow("hotQps");
  });
});
