import { describe, expect, test } from "bun:test";
import { crc32, DEFAULT_REPLICAS, type HashFn, Ring, type RingOptions, wyhash } from "../src/core/consistent-hash.ts";
import { mulberry32 } from "./helpers/prng.ts";

const PEERS = ["http://localhost:8001", "http://localhost:8002", "http://localhost:8003"];
const identity: HashFn = (s) => Number(s);

/** identityRing is GeeCache's test ring: the hash of "16" is 16, so placements can be read off. */
function identityRing(): Ring {
  const r = new Ring({ hash: identity, replicas: 3 });
  r.add("6", "4", "2"); // virtual nodes 2 4 6 12 14 16 22 24 26
  return r;
}

describe("hash functions", () => {
  test.each<{ s: string; want: number }>([
    { s: "", want: 0 },
    { s: "a", want: 0xe8b7be43 },
    { s: "123456789", want: 0xcbf43926 }, // the CRC-32/IEEE check value
  ])("crc32($s)", ({ s, want }) => {
    expect(crc32(s)).toBe(want);
  });

  test("wyhash is an unsigned 32-bit number and deterministic", () => {
    for (const s of ["", "a", "Tom", "http://localhost:8001"]) {
      const h = wyhash(s);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      expect(wyhash(s)).toBe(h);
    }
    expect(wyhash("a")).not.toBe(wyhash("b"));
  });
});

describe("Ring", () => {
  test("DEFAULT_REPLICAS is groupcache's 50 and the default", () => {
    expect({ constant: DEFAULT_REPLICAS, ring: new Ring().replicas }).toEqual({ constant: 50, ring: 50 });
  });

  // Same owners as Go GeeCache / groupcache with crc32.ChecksumIEEE and 50 replicas.
  test.each<{ key: string; want: string }>([
    { key: "Tom", want: "http://localhost:8001" },
    { key: "Jack", want: "http://localhost:8001" },
    { key: "Sam", want: "http://localhost:8003" },
    { key: "kkk", want: "http://localhost:8001" },
    { key: "/x", want: "http://localhost:8002" },
  ])("crc32 mode routes $key like Go: $want", ({ key, want }) => {
    const r = new Ring({ hash: "crc32", replicas: 50 });
    r.add(...PEERS);
    expect(r.get(key)).toBe(want);
  });

  test("crc32 by name and crc32 as a function route alike", () => {
    const byName = new Ring({ hash: "crc32" });
    const byFn = new Ring({ hash: crc32 });
    byName.add(...PEERS);
    byFn.add(...PEERS);
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    expect(keys.map((k) => byName.get(k))).toEqual(keys.map((k) => byFn.get(k)));
  });

  test.each<{ key: string; want: string }>([
    { key: "2", want: "2" },
    { key: "11", want: "2" },
    { key: "23", want: "4" },
    { key: "27", want: "2" }, // past the last point: wraps to 2
  ])("identity hash: $key -> $want", ({ key, want }) => {
    expect(identityRing().get(key)).toBe(want);
  });

  test("adding a peer moves only the keys it now owns", () => {
    const r = identityRing();
    r.add("8"); // adds 8 18 28
    expect(["2", "11", "23", "27"].map((k) => r.get(k))).toEqual(["2", "2", "4", "8"]);
  });

  test("an empty ring owns nothing", () => {
    const r = new Ring();
    expect({ get: r.get("any"), peers: r.peers(), shares: r.shares() }).toEqual({
      get: undefined,
      peers: [],
      shares: new Map(),
    });
  });

  test("remove takes a peer's points off the ring", () => {
    const r = identityRing();
    r.remove("2");
    // 2 -> next point 4; 11 -> 12 (peer 2) is gone -> 14 (peer 4); 27 wraps to 4.
    expect({ peers: r.peers(), owners: ["2", "11", "23", "27"].map((k) => r.get(k)) }).toEqual({
      peers: ["6", "4"],
      owners: ["4", "4", "4", "4"],
    });
    r.remove("6", "4");
    expect({ peers: r.peers(), get: r.get("2") }).toEqual({ peers: [], get: undefined });
  });

  test("remove of an unknown peer changes nothing", () => {
    const r = identityRing();
    r.remove("nope");
    expect({ peers: r.peers(), owners: ["2", "11", "23", "27"].map((k) => r.get(k)) }).toEqual({
      peers: ["6", "4", "2"],
      owners: ["2", "2", "4", "2"],
    });
  });

  test("set replaces the whole peer list", () => {
    const r = identityRing();
    r.set(["8"]);
    expect({ peers: r.peers(), owners: ["2", "11", "23", "27"].map((k) => r.get(k)) }).toEqual({
      peers: ["8"],
      owners: ["8", "8", "8", "8"],
    });
    r.set(new Set(["6", "4", "2"]));
    expect(["2", "11", "23", "27"].map((k) => r.get(k))).toEqual(["2", "2", "4", "2"]);
    r.set([]);
    expect({ peers: r.peers(), get: r.get("2") }).toEqual({ peers: [], get: undefined });
  });

  test("adding a peer twice is a no-op", () => {
    const r = new Ring({ hash: "crc32" });
    r.add(...PEERS);
    const before = { peers: r.peers(), shares: r.shares() };
    r.add(PEERS[0]!, PEERS[0]!);
    expect({ peers: r.peers(), shares: r.shares() }).toEqual(before);
    expect(r.peers()).toHaveLength(3);
  });

  test("on a hash collision the peer added last owns the point", () => {
    const r = new Ring({ hash: () => 7, replicas: 1 });
    r.add("a", "b");
    expect(r.get("x")).toBe("b");
  });

  test.each<{ name: string; options: RingOptions; error: typeof RangeError | typeof TypeError }>([
    { name: "replicas 0", options: { replicas: 0 }, error: RangeError },
    { name: "replicas -1", options: { replicas: -1 }, error: RangeError },
    { name: "replicas 1.5", options: { replicas: 1.5 }, error: RangeError },
    { name: "replicas 20000", options: { replicas: 20_000 }, error: RangeError },
    { name: "replicas NaN", options: { replicas: Number.NaN }, error: RangeError },
    { name: "hash md5", options: { hash: "md5" as never }, error: TypeError },
    { name: "hash 42", options: { hash: 42 as never }, error: TypeError },
  ])("$name throws", ({ options, error }) => {
    expect(() => new Ring(options)).toThrow(error);
  });

  test.each<{ replicas: number }>([{ replicas: 1 }, { replicas: 10_000 }])(
    "replicas $replicas is accepted",
    ({ replicas }) => {
      expect(new Ring({ replicas }).replicas).toBe(replicas);
    },
  );

  test.each<{ peer: unknown }>([{ peer: "" }, { peer: 1 }])("add($peer) throws a TypeError", ({ peer }) => {
    expect(() => new Ring().add(peer as string)).toThrow(TypeError);
  });

  test.each<{ hash: "wyhash" | "crc32" }>([{ hash: "wyhash" }, { hash: "crc32" }])(
    "$hash shares sum to 1",
    ({ hash }) => {
      const r = new Ring({ hash });
      r.add(...PEERS);
      const shares = r.shares();
      expect([...shares.keys()]).toEqual(PEERS);
      const sum = [...shares.values()].reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 9);
      for (const s of shares.values()) expect(s).toBeGreaterThan(0);
    },
  );

  test("a single peer owns the whole ring", () => {
    const r = new Ring({ replicas: 1 });
    r.add("only");
    expect(r.shares()).toEqual(new Map([["only", 1]]));
  });

  test("identity ring shares are the arcs between points", () => {
    const r = identityRing(); // points 2 4 6 12 14 16 22 24 26; "2" also owns the wrap (26, 2^32 + 2]
    const span = 2 ** 32;
    expect(r.shares()).toEqual(
      new Map([
        ["6", (2 + 2 + 2) / span],
        ["4", (2 + 2 + 2) / span],
        ["2", (span - 26 + 2 + 6 + 6) / span],
      ]),
    );
  });

  // 50 virtual nodes per peer is not perfectly even: with these peers wyhash gives about
  // 0.27 / 0.34 / 0.38 and crc32 about 0.29 / 0.30 / 0.41, so the bounds leave room but still
  // catch a ring that sends most keys to one peer.
  test.each<{ hash: "wyhash" | "crc32" }>([{ hash: "wyhash" }, { hash: "crc32" }])(
    "$hash spreads 100k random keys over 3 peers",
    ({ hash }) => {
      const r = new Ring({ hash, replicas: 50 });
      r.add(...PEERS);
      const rnd = mulberry32(42);
      const counts = new Map(PEERS.map((p) => [p, 0]));
      const N = 100_000;
      for (let i = 0; i < N; i++) {
        const p = r.get(`key-${Math.floor(rnd() * 2 ** 32).toString(36)}`)!;
        counts.set(p, counts.get(p)! + 1);
      }
      const shares = r.shares();
      console.log(
        `${hash} shares of ${N} keys at 50 replicas:`,
        PEERS.map((p) => `${p}=${(counts.get(p)! / N).toFixed(4)} (ring ${shares.get(p)!.toFixed(4)})`).join(" "),
      );
      for (const p of PEERS) {
        const share = counts.get(p)! / N;
        expect(share).toBeGreaterThanOrEqual(0.2);
        expect(share).toBeLessThanOrEqual(0.47);
        expect(Math.abs(share - shares.get(p)!)).toBeLessThan(0.01); // sampling agrees with the ring's arcs
      }
    },
  );
});
