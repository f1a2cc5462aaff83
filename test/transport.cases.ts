// The transport conformance suite: one set of cases that every PeerTransport must pass, run on
// in-process clusters (port 0) by test/transport-<name>.test.ts. Nodes are reached through their
// API (/api) and through clients made by the transport under test. Node i's loader answers
// `<key>@<i>`, so every value names the node that loaded it (see helpers/transport-harness.ts).
import { describe, expect, test } from "bun:test";
import type { PeerTransport } from "../src/cluster/transport.ts";
import { ByteView } from "../src/core/byteview.ts";
import { counters, failed, GROUP, harness, outcome } from "./helpers/transport-harness.ts";
import { until } from "./helpers/until.ts";

/**
 * TransportOptions are the settings every transport takes: the peers' shared token, the peer timeout in ms, the largest
 * value a peer may write.
 */
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

const dec = new TextDecoder();
const plain = (r: { value: Uint8Array; expiresAt: number }) => ({ value: dec.decode(r.value), expiresAt: r.expiresAt });
/**
 * HOT keeps every value fetched from a peer in the hot cache (a coin that always says yes, whatever rate the owner
 * reports), so writes can be seen dropping hot copies.
 */
const HOT = { group: () => ({ hotCacheRatio: 1, hotQps: 0, random: () => 0 }) };
/** MARGIN is how late past its deadline a timed-out or aborted request may fail on a busy machine. */
const MARGIN = 1500;
/** FAST is how the cases poll an in-process cluster: every 5 ms, for at most 3 s. */
const FAST = { timeoutMs: 3000, intervalMs: 5 };

/** transportCases registers the conformance cases for one transport. */
export function transportCases(factory: TransportFactory): void {
  describe(`transport ${factory.name}: reads`, () => {
    test("get hit: the owner's cached value and expiry travel; no loader runs", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      const expiresAt = Date.now() + 60_000;
      h.c.nodes[1]!.group.setLocal(key, "stored", { expiresAt });
      const client = factory.make({}).client(h.c.urls[1]!);
      expect(plain(await client.get(GROUP, key))).toEqual({ value: "stored", expiresAt });
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

    test("concurrent misses of one key on several nodes load it once, on the owner", async () => {
      await using h = await harness(factory, 3, { slow: 1 });
      const key = h.c.keyOwnedBy(1, "slow-");
      const answers = Promise.all([0, 0, 0, 2, 2, 2].map((i) => h.api(i, key)));
      await until(
        "every get in, one peer request from each of nodes 0 and 2",
        () => h.stats(0).gets === 3 && h.stats(2).gets === 3 && h.stats(1).serverRequests === 2,
        FAST,
      );
      h.release();
      expect(await answers).toEqual(Array(6).fill({ status: 200, value: `${key}@1`, from: "peer" }));
      expect(h.loads).toEqual([[], [key], []]);
    });

    test("minute_qps: the owner's measured rate travels with get and getMany answers (none for a key asked once, nor on a peek)", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      const client = factory.make({}).client(h.c.urls[1]!);
      const first = await client.get(GROUP, key); // the first request only starts the key's clock
      const second = await client.get(GROUP, key);
      const many = client.getMany ? (await client.getMany(GROUP, [key])).get(key) : { minuteQps: 1 };
      const peeked = client.peek ? await client.peek(GROUP, key) : { value: new Uint8Array(0), expiresAt: 0 };
      const rate = (r: unknown) => (r as { minuteQps?: number } | undefined)?.minuteQps;
      // Two requests within the one-second floor: 1/s; three: 2/s (a slow machine may take longer).
      expect({
        first: rate(first),
        second: rate(second)! > 0 && rate(second)! <= 1,
        many: rate(many)! > 0,
        peeked: rate(peeked),
      }).toEqual({ first: undefined, second: true, many: true, peeked: undefined });
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

    test("keys with spaces, slashes, percent signs, query characters and non-ASCII text travel intact", async () => {
      await using h = await harness(factory, 2);
      const keys = [" padded ", "a/b/c", "/leading", "100%", "%41", "a?b=c&d=e", "#hash", "a+b", "Zoë 🙂", "漢字"];
      const client = factory.make({}).client(h.c.urls[1]!);
      const got = [];
      for (const key of keys) got.push(dec.decode((await client.get(GROUP, key)).value));
      expect(got).toEqual(keys.map((key) => `${key}@1`));
      expect(h.loads).toEqual([[], keys]);
    });

    test("an unknown group on the peer is a peer failure, not NOT_FOUND", async () => {
      await using h = await harness(factory, 2);
      const client = factory.make({}).client(h.c.urls[1]!);
      expect(failed(await outcome(client.get("no-such-group", "k")))).toBe(true);
    });

    test("source failure: the client's error is not NOT_FOUND; /api falls back, fails too, answers 503", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1, "fail-");
      const client = factory.make({}).client(h.c.urls[1]!);
      expect(failed(await outcome(client.get(GROUP, key)))).toBe(true);
      expect(await h.api(0, key)).toEqual({ status: 503, value: null, from: null });
      expect(h.loads).toEqual([[key], [key, key], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, peerErrors: 1, loads: 1, loadsDeduped: 1, localLoadErrs: 1 }));
    });

    test("a peer's request is never forwarded: a non-owner answers it from its own loader", async () => {
      await using h = await harness(factory, 3);
      const key = h.c.keyOwnedBy(1);
      const client = factory.make({}).client(h.c.urls[2]!);
      expect(plain(await client.get(GROUP, key))).toEqual({ value: `${key}@2`, expiresAt: 0 });
      expect(h.loads).toEqual([[], [], [key]]);
      expect([h.stats(0), h.stats(1), h.stats(2)]).toEqual([
        counters({}),
        counters({}),
        counters({ gets: 1, loads: 1, localLoads: 1, serverRequests: 1 }),
      ]);
    });

    test("abort: the caller's signal ends a slow get with ABORTED at once; the owner's load still completes", async () => {
      await using h = await harness(factory, 2, { slow: 1 });
      const key = h.c.keyOwnedBy(1, "slow-");
      const client = factory.make({ timeout: 30_000 }).client(h.c.urls[1]!);
      expect(await outcome(client.get(GROUP, key, AbortSignal.abort()))).toBe("ABORTED");
      const ac = new AbortController();
      const got = outcome(client.get(GROUP, key, ac.signal));
      await until("the owner's loader to start", () => h.loads[1]!.length === 1, FAST);
      const t0 = performance.now();
      ac.abort();
      expect(await got).toBe("ABORTED");
      expect(performance.now() - t0).toBeLessThan(MARGIN);
      h.release();
      await until("the owner's load to finish and fill its cache", () => h.cached(1, key) !== undefined, FAST);
      expect(plain(await client.get(GROUP, key))).toEqual({ value: `${key}@1`, expiresAt: 0 });
      expect(h.loads).toEqual([[], [key]]);
    });

    test("timeout: a peer that never answers fails within the timeout; the get falls back to a local load", async () => {
      const timeout = 300;
      await using h = await harness(factory, 3, { slow: 1, transport: () => ({ timeout }) });
      const key = h.c.keyOwnedBy(1, "slow-");
      const client = factory.make({ timeout }).client(h.c.urls[1]!);
      let t0 = performance.now();
      const code = await outcome(client.get(GROUP, key));
      const took = [performance.now() - t0];
      t0 = performance.now();
      expect(await h.api(0, key)).toEqual({ status: 200, value: `${key}@0`, from: "loader" });
      took.push(performance.now() - t0);
      expect({ failed: failed(code), aborted: code === "ABORTED" }).toEqual({ failed: true, aborted: false });
      for (const ms of took) expect(ms > timeout * 0.9 && ms < timeout + MARGIN).toBe(true);
      expect(h.loads).toEqual([[key], [key], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, peerErrors: 1, loads: 1, loadsDeduped: 1, localLoads: 1 }));
    });

    test("peer down: keys it owned answer from the survivors' own loaders, counted as peer errors", async () => {
      await using h = await harness(factory, 3, { transport: () => ({ timeout: 1000 }) });
      const key = h.c.keyOwnedBy(1);
      const other = h.c.keyOwnedBy(2);
      await h.c.stopNode(1);
      expect(await h.api(0, key)).toEqual({ status: 200, value: `${key}@0`, from: "loader" });
      expect(await h.api(2, key)).toEqual({ status: 200, value: `${key}@2`, from: "loader" });
      expect(await h.api(0, other)).toEqual({ status: 200, value: `${other}@2`, from: "peer" });
      expect(h.loads).toEqual([[key], [], [key, other]]);
      expect(h.stats(0)).toEqual(
        counters({ gets: 2, peerLoads: 1, peerErrors: 1, loads: 2, loadsDeduped: 2, localLoads: 1 }),
      );
    });
  });

  describe(`transport ${factory.name}: writes`, () => {
    test("set: client.set stores the value and its expiry in the owner's main cache", async () => {
      await using h = await harness(factory, 2);
      const key = h.c.keyOwnedBy(1);
      const expiresAt = Date.now() + 60_000;
      const client = factory.make({}).client(h.c.urls[1]!);
      expect(await outcome(client.set!(GROUP, key, ByteView.from("written"), expiresAt))).toBe("ok");
      expect(h.cached(1, key)).toEqual({ value: "written", expiresAt, from: "main" });
      expect(await h.api(0, key)).toEqual({ status: 200, value: "written", from: "peer" });
      expect(h.loads).toEqual([[], []]);
    });

    test("set: a value over the owner's maxValueBytes is refused and not stored", async () => {
      await using h = await harness(factory, 2, { transport: () => ({ maxValueBytes: 16 }) });
      const key = h.c.keyOwnedBy(1);
      const client = factory.make({ maxValueBytes: 16 }).client(h.c.urls[1]!);
      expect(failed(await outcome(client.set!(GROUP, key, ByteView.from("x".repeat(17)), 0)))).toBe(true);
      expect(h.cached(1, key)).toBeUndefined();
      expect(await outcome(client.set!(GROUP, key, ByteView.from("x".repeat(16)), 0))).toBe("ok");
      expect(h.cached(1, key)).toEqual({ value: "x".repeat(16), expiresAt: 0, from: "main" });
    });

    test("set through a non-owner lands on the owner and drops every hot copy", async () => {
      await using h = await harness(factory, 3, HOT);
      const key = h.c.keyOwnedBy(1);
      expect(await h.api(2, key)).toEqual({ status: 200, value: `${key}@1`, from: "peer" });
      expect(h.cached(2, key)).toEqual({ value: `${key}@1`, expiresAt: 0, from: "hot" });
      expect(await h.c.nodes[0]!.group.set(key, "new")).toEqual({ failed: [] });
      expect([0, 1, 2].map((i) => h.cached(i, key))).toEqual([
        undefined,
        { value: "new", expiresAt: 0, from: "main" },
        undefined,
      ]);
      expect(await h.api(2, key)).toEqual({ status: 200, value: "new", from: "peer" });
      expect(h.loads).toEqual([[], [key], []]);
    });

    test("remove: client.remove drops the peer's copy; group.remove drops every node's", async () => {
      await using h = await harness(factory, 3, HOT);
      const key = h.c.keyOwnedBy(1);
      expect([await h.api(0, key), await h.api(2, key)]).toEqual([
        { status: 200, value: `${key}@1`, from: "peer" },
        { status: 200, value: `${key}@1`, from: "peer" },
      ]);
      expect(await outcome(factory.make({}).client(h.c.urls[1]!).remove!(GROUP, key))).toBe("ok");
      const hot = { value: `${key}@1`, expiresAt: 0, from: "hot" as const };
      expect([0, 1, 2].map((i) => h.cached(i, key))).toEqual([hot, undefined, hot]);
      expect(await h.c.nodes[0]!.group.remove(key)).toEqual({ failed: [] });
      expect([0, 1, 2].map((i) => h.cached(i, key))).toEqual([undefined, undefined, undefined]);
      expect(await h.api(2, key)).toEqual({ status: 200, value: `${key}@1`, from: "peer" });
      expect(h.loads).toEqual([[], [key, key], []]);
    });
  });

  describe(`transport ${factory.name}: peek (handoff)`, () => {
    test("peek, when the client has it: the peer's cached copy only, never loaded, never forwarded", async () => {
      await using h = await harness(factory, 3);
      const client = factory.make({}).client(h.c.urls[1]!);
      if (!client.peek) return; // optional: a transport without peek only loses handoff
      const key = h.c.keyOwnedBy(1);
      const elsewhere = h.c.keyOwnedBy(2);
      expect(await client.peek(GROUP, key)).toBeUndefined();
      expect(await client.peek(GROUP, elsewhere)).toBeUndefined();
      h.c.nodes[1]!.group.setLocal(key, "kept", { expiresAt: 0 });
      expect(plain((await client.peek(GROUP, key))!)).toEqual({ value: "kept", expiresAt: 0 });
      expect(h.loads).toEqual([[], [], []]);
      expect(failed(await outcome(client.peek(`${GROUP}-none`, key)))).toBe(true);
    });
  });

  describe(`transport ${factory.name}: token`, () => {
    test("nodes made with the token talk; a client without it, or with another, is refused (not NOT_FOUND) before the group", async () => {
      await using h = await harness(factory, 3, { transport: () => ({ token: "s3cret" }) });
      const key = h.c.keyOwnedBy(1);
      expect(await h.api(0, key)).toEqual({ status: 200, value: `${key}@1`, from: "peer" });
      for (const token of [undefined, "wrong"]) {
        const client = factory.make({ token }).client(h.c.urls[1]!);
        expect({
          token,
          get: failed(await outcome(client.get(GROUP, key))),
          set: failed(await outcome(client.set!(GROUP, key, ByteView.from("bad"), 0))),
          remove: failed(await outcome(client.remove!(GROUP, key))),
        }).toEqual({ token, get: true, set: true, remove: true });
      }
      expect(h.cached(1, key)).toEqual({ value: `${key}@1`, expiresAt: 0, from: "main" });
      expect(plain(await factory.make({ token: "s3cret" }).client(h.c.urls[1]!).get(GROUP, key))).toEqual({
        value: `${key}@1`,
        expiresAt: 0,
      });
      expect(h.stats(1)).toEqual(counters({ gets: 2, cacheHits: 1, loads: 1, localLoads: 1, serverRequests: 2 }));
    });

    test("a node without the token falls back to a local load and counts a peer error", async () => {
      await using h = await harness(factory, 3, { transport: (i) => (i === 0 ? {} : { token: "s3cret" }) });
      const key = h.c.keyOwnedBy(1);
      expect(await h.api(0, key)).toEqual({ status: 200, value: `${key}@0`, from: "loader" });
      expect(h.loads).toEqual([[key], [], []]);
      expect(h.stats(0)).toEqual(counters({ gets: 1, peerErrors: 1, loads: 1, loadsDeduped: 1, localLoads: 1 }));
      expect(h.stats(1)).toEqual(counters({}));
    });
  });
}
