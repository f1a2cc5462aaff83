// Writes: Group.set/remove, PUT and DELETE through /api on an in-process cluster, dead peers, and writes racing loads.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PeerSet } from "../src/cluster/peer-set.ts";
import { encodeResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import type { GroupOptions } from "../src/group/options.ts";
import type { GetResult } from "../src/group/results.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { startCluster } from "./helpers/cluster.ts";
import { counting } from "./helpers/counting.ts";
import { keyOwnedBy } from "./helpers/owned-keys.ts";

const T0 = 1_000_000;
const MAX_VALUE_BYTES = 1024;

/** plain turns a result into plain data for toEqual: the value as text. */
const plain = (r: GetResult | undefined) => r && { value: r.value.toString(), expiresAt: r.expiresAt, from: r.from };

/** source answers `src:<key>`, except for keys starting with "new-", which exist only once written. */
const source: Getter = (key) => (key.startsWith("new-") ? undefined : `src:${key}`);

/** Node is one in-process node: its URL, peer set and the one group "scores". */
interface Node {
  url: string;
  pool: PeerSet;
  group: Group;
  loads: string[];
  stop(): Promise<void>;
}

/** startNodes starts an in-process cluster of n nodes (test/helpers/cluster.ts) and hands each as a Node. */
async function startNodes(n: number, groupOptions: (i: number) => Partial<GroupOptions> = () => ({})): Promise<Node[]> {
  const loads: string[][] = [];
  const cluster = await startCluster(n, {
    transport: () => httpTransport({ maxValueBytes: MAX_VALUE_BYTES, timeout: 2000 }),
    getter: (i) => {
      const getter = counting(source);
      loads[i] = getter.keys;
      return getter;
    },
    group: (i) => ({ hotCacheRatio: 1, hotQps: 0, random: () => 0, ...groupOptions(i) }),
    node: () => ({ maxValueBytes: MAX_VALUE_BYTES }),
  });
  return cluster.nodes.map((node, i) => ({
    url: node.url,
    pool: node.peers,
    group: node.group,
    loads: loads[i]!,
    stop: () => cluster.stopNode(i),
  }));
}

/** Answer is what a test compares of an HTTP response. */
interface Answer {
  status: number;
  body: string;
  failedPeers: string | null;
}

async function call(node: Node, method: string, key: string, body?: string | Uint8Array, query = ""): Promise<Answer> {
  const res = await fetch(`${node.url}/api?key=${encodeURIComponent(key)}${query}`, {
    method,
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text(), failedPeers: res.headers.get("x-geecache-failed-peers") };
}
const get = (node: Node, key: string) => call(node, "GET", key);
const put = (node: Node, key: string, value: string | Uint8Array, query = "") => call(node, "PUT", key, value, query);
const del = (node: Node, key: string) => call(node, "DELETE", key);

const ok = (body: string): Answer => ({ status: 200, body, failedPeers: null });
const NO_CONTENT: Answer = { status: 204, body: "", failedPeers: null };
const notFound = (key: string): Answer => ({
  status: 404,
  body: `key ${JSON.stringify(key)} not found in group scores\n`,
  failedPeers: null,
});

describe("Group.set and remove without peers", () => {
  const cases: { name: string; options: { ttl?: number; expiresAt?: number } | undefined; expiresAt: number }[] = [
    { name: "the group's ttl is the default", options: undefined, expiresAt: T0 + 1000 },
    { name: "a ttl overrides it", options: { ttl: 5 }, expiresAt: T0 + 5 },
    { name: "an expiresAt overrides it", options: { expiresAt: T0 + 42 }, expiresAt: T0 + 42 },
    { name: "ttl 0 means forever", options: { ttl: 0 }, expiresAt: 0 },
  ];
  for (const c of cases) {
    test(`set stores locally: ${c.name}`, async () => {
      const getter = counting(source);
      const g = new Group({ name: "g", getter, ttl: 1000, now: () => T0 });
      const result = await g.set("k", "written", c.options);
      const got = plain(await g.getEntry("k"));
      expect({ result, got, loads: getter.keys }).toEqual({
        result: { failed: [] },
        got: { value: "written", expiresAt: c.expiresAt, from: "main" },
        loads: [],
      });
    });
  }

  test("remove drops the value and the next get loads again", async () => {
    const getter = counting(source);
    const g = new Group({ name: "g", getter });
    await g.set("k", "written");
    const result = await g.remove("k");
    const looked = g.lookup("k");
    const got = plain(await g.getEntry("k"));
    expect({ result, looked, got, loads: getter.keys }).toEqual({
      result: { failed: [] },
      looked: undefined,
      got: { value: "src:k", expiresAt: 0, from: "loader" },
      loads: ["k"],
    });
  });
});

describe("a write wins over a load of the same key in flight", () => {
  /** gated builds a group whose loader waits for `gate` and answers "loaded"; `started` resolves when it is called. */
  function gated() {
    const gate = Promise.withResolvers<void>();
    const started = Promise.withResolvers<void>();
    const getter = counting(async () => {
      started.resolve();
      await gate.promise;
      return "loaded";
    });
    return { gate, started, getter, g: new Group({ name: "g", getter }) };
  }

  test("remove during the load: the loaded value is not cached and the next get loads again", async () => {
    const { gate, started, getter, g } = gated();
    const pending = g.get("k");
    await started.promise;
    await g.remove("k");
    gate.resolve();
    const first = (await pending).toString();
    const looked = g.lookup("k");
    const again = g.get("k");
    const loadsAfter = getter.keys.length;
    await again;
    expect({ first, looked, loadsAfter }).toEqual({ first: "loaded", looked: undefined, loadsAfter: 2 });
  });

  test("set during the load: the set value stays and the next get does not load", async () => {
    const { gate, started, getter, g } = gated();
    const pending = g.get("k");
    await started.promise;
    await g.set("k", "written");
    gate.resolve();
    await pending;
    expect({ looked: plain(g.lookup("k")), next: plain(await g.getEntry("k")), loads: getter.keys.length }).toEqual({
      looked: { value: "written", expiresAt: 0, from: "main" },
      next: { value: "written", expiresAt: 0, from: "main" },
      loads: 1,
    });
  });
});

describe("PUT and DELETE on /api across three nodes", () => {
  let nodes: Node[] = [];
  beforeAll(async () => {
    nodes = await startNodes(3);
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  test("PUT on a non-owner lands in the owner's main cache and drops the other nodes' hot copies", async () => {
    const [a, b, owner] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(owner.pool, owner.url, "put-");
    expect([await get(a, key), await get(b, key)]).toEqual([ok(`src:${key}`), ok(`src:${key}`)]);
    expect([a, b].map((n) => n.group.lookup(key)?.from)).toEqual(["hot", "hot"]);

    expect(await put(a, key, "new")).toEqual(NO_CONTENT);
    expect(nodes.map((n) => plain(n.group.lookup(key)))).toEqual([
      undefined,
      undefined,
      { value: "new", expiresAt: 0, from: "main" },
    ]);
    expect(await Promise.all(nodes.map((n) => get(n, key)))).toEqual([ok("new"), ok("new"), ok("new")]);
    expect(owner.loads.filter((k) => k === key)).toEqual([key]);
  });

  test("PUT on the owner stores it there and drops the hot copies", async () => {
    const [a, b, owner] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(owner.pool, owner.url, "own-");
    await Promise.all([get(a, key), get(b, key)]);
    expect(await put(owner, key, "mine")).toEqual(NO_CONTENT);
    expect(nodes.map((n) => plain(n.group.lookup(key)))).toEqual([
      undefined,
      undefined,
      { value: "mine", expiresAt: 0, from: "main" },
    ]);
  });

  test("DELETE drops the key from every node; the next GET loads the source's value again", async () => {
    const [a, b, owner] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(owner.pool, owner.url, "del-");
    await put(a, key, "written");
    await Promise.all([get(a, key), get(b, key)]);
    expect(nodes.map((n) => n.group.lookup(key)?.from)).toEqual(["hot", "hot", "main"]);
    expect(await del(b, key)).toEqual(NO_CONTENT);
    expect(nodes.map((n) => n.group.lookup(key))).toEqual([undefined, undefined, undefined]);
    expect(await get(a, key)).toEqual(ok(`src:${key}`));
  });

  test("a key that exists only once written is 404 again after DELETE", async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(b.pool, b.url, "new-");
    expect(await get(c, key)).toEqual(notFound(key));
    expect(await put(a, key, "fresh")).toEqual(NO_CONTENT);
    expect(await Promise.all(nodes.map((n) => get(n, key)))).toEqual([ok("fresh"), ok("fresh"), ok("fresh")]);
    expect(await del(c, key)).toEqual(NO_CONTENT);
    expect(await Promise.all(nodes.map((n) => get(n, key)))).toEqual([notFound(key), notFound(key), notFound(key)]);
  });

  test("&ttl=30s gives the value an expiry, reported by the next GET's expires header", async () => {
    const [a, b, owner] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(owner.pool, owner.url, "ttl-");
    const before = Date.now();
    expect(await put(a, key, "short", "&ttl=30s")).toEqual(NO_CONTENT);
    const after = Date.now();
    const expiresAt = owner.group.lookup(key)!.expiresAt;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 30_000);
    const res = await fetch(`${b.url}/api?key=${key}`);
    expect({ status: res.status, body: await res.text(), expires: res.headers.get("expires") }).toEqual({
      status: 200,
      body: "short",
      expires: new Date(expiresAt).toUTCString(),
    });
    expect(b.group.lookup(key)?.expiresAt).toBe(expiresAt);
  });

  test("a value over maxValueBytes is 413 and is not stored; one of exactly maxValueBytes is", async () => {
    const [a, b] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(b.pool, b.url, "big-");
    const tooBig = await put(a, key, "x".repeat(MAX_VALUE_BYTES + 1));
    expect({ ...tooBig, lines: tooBig.body.split("\n").length }).toEqual({
      status: 413,
      body: `body is ${MAX_VALUE_BYTES + 1} bytes, over the limit of ${MAX_VALUE_BYTES}\n`,
      failedPeers: null,
      lines: 2,
    });
    expect(nodes.map((n) => n.group.lookup(key))).toEqual([undefined, undefined, undefined]);
    expect(await put(a, key, "x".repeat(MAX_VALUE_BYTES))).toEqual(NO_CONTENT);
    expect(b.group.lookup(key)?.value.length).toBe(MAX_VALUE_BYTES);
  });

  describe("the peer route", () => {
    const peerUrl = (node: Node, key: string) => `${node.url}/_geecache/scores/${encodeURIComponent(key)}`;

    test("PUT with a protobuf body stores the value with its expiry; DELETE drops it", async () => {
      const [a] = nodes as [Node, Node, Node];
      const expiresAt = Date.now() + 60_000;
      const put = await fetch(peerUrl(a, "peer-put"), {
        method: "PUT",
        body: encodeResponse(new TextEncoder().encode("direct"), expiresAt),
      });
      const stored = plain(a.group.lookup("peer-put"));
      const del = await fetch(peerUrl(a, "peer-put"), { method: "DELETE" });
      expect({ put: put.status, stored, del: del.status, after: a.group.lookup("peer-put") }).toEqual({
        put: 204,
        stored: { value: "direct", expiresAt, from: "main" },
        del: 204,
        after: undefined,
      });
    });

    const malformed: { name: string; body: number[] }[] = [
      { name: "a length past the end", body: [0x0a, 0x05, 0x61] },
      { name: "a truncated varint", body: [0x18, 0xff] },
      { name: "field number 0", body: [0x02, 0x00] },
      { name: "wire type 7", body: [0x0f] },
    ];
    for (const m of malformed) {
      test(`PUT with a malformed protobuf body (${m.name}) is 400 and stores nothing`, async () => {
        const [a] = nodes as [Node, Node, Node];
        const res = await fetch(peerUrl(a, "peer-bad"), { method: "PUT", body: new Uint8Array(m.body) });
        const body = await res.text();
        expect({
          status: res.status,
          malformed: body.startsWith("malformed body: malformed protobuf"),
          lines: body.split("\n").length,
        }).toEqual({
          status: 400,
          malformed: true,
          lines: 2,
        });
        expect(a.group.lookup("peer-bad")).toBeUndefined();
      });
    }
  });
});

describe("&ttl=0 means never, even on groups with a ttl of an hour", () => {
  const HOUR = 3_600_000;
  let nodes: Node[] = [];
  beforeAll(async () => {
    nodes = await startNodes(2, () => ({ ttl: HOUR }));
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  const cases: { name: string; via: "owner" | "other"; query: string; forever: boolean }[] = [
    { name: "through the owner", via: "owner", query: "&ttl=0", forever: true },
    { name: "through another node (expire 0 on the wire)", via: "other", query: "&ttl=0", forever: true },
    { name: "without &ttl the group's ttl applies", via: "other", query: "", forever: false },
  ];
  for (const [i, c] of cases.entries()) {
    test(`${c.name}: ${c.forever ? "forever" : "an hour"}`, async () => {
      const [a, owner] = nodes as [Node, Node];
      const key = keyOwnedBy(owner.pool, owner.url, `zero-${i}-`);
      const before = Date.now();
      expect(await put(c.via === "owner" ? owner : a, key, "v", c.query)).toEqual(NO_CONTENT);
      const expiresAt = owner.group.lookup(key)!.expiresAt;
      expect(c.forever ? expiresAt === 0 : expiresAt >= before + HOUR && expiresAt <= Date.now() + HOUR).toBe(true);
    });
  }
});

describe("a write racing a load across nodes", () => {
  let nodes: Node[] = [];
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  beforeAll(async () => {
    // Every node's loader waits for the gate on "slow-" keys and answers "loaded".
    nodes = await startNodes(3, () => ({
      getter: async (key) => {
        if (!key.startsWith("slow-")) return `src:${key}`;
        started.resolve();
        await gate.promise;
        return "loaded";
      },
    }));
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  test("PUT while the owner is loading: the owner keeps the written value and the asking node keeps no hot copy of the loaded one", async () => {
    const [a, b, owner] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(owner.pool, owner.url, "slow-");
    const pending = get(a, key); // a asks the owner, whose loader waits
    await started.promise;
    expect(await put(b, key, "written")).toEqual(NO_CONTENT);
    gate.resolve();
    expect(await pending).toEqual(ok("loaded")); // the GET that began before the write sees the load it joined
    expect(nodes.map((n) => plain(n.group.lookup(key)))).toEqual([
      undefined,
      undefined,
      { value: "written", expiresAt: 0, from: "main" },
    ]);
    expect(await get(a, key)).toEqual(ok("written"));
  });
});

describe("writes with a dead peer", () => {
  let nodes: Node[] = [];
  beforeAll(async () => {
    nodes = await startNodes(3);
    await nodes[2]!.stop(); // before anyone connects to it, so no kept-alive connection reaches it
  });
  afterAll(() => Promise.all(nodes.slice(0, 2).map((n) => n.stop())));

  test("a dead non-owner: 200 naming it in JSON and x-geecache-failed-peers; the owner has the value", async () => {
    const [a, b, dead] = nodes as [Node, Node, Node];
    const key = keyOwnedBy(b.pool, b.url, "half-");
    const res = await put(a, key, "v");
    expect({ ...res, body: JSON.parse(res.body) }).toEqual({
      status: 200,
      body: { failed: [{ peer: dead.url, error: "connection refused" }] }, // the peer is named once, in "peer"
      failedPeers: dead.url,
    });
    expect(plain(b.group.lookup(key))).toEqual({ value: "v", expiresAt: 0, from: "main" });
  });

  const ownerDown: { method: "PUT" | "DELETE" }[] = [{ method: "PUT" }, { method: "DELETE" }];
  for (const c of ownerDown) {
    test(`${c.method} of a key whose owner is dead is 502`, async () => {
      const [a, , dead] = nodes as [Node, Node, Node];
      const key = keyOwnedBy(dead.pool, dead.url, `down-${c.method}-`);
      const res = await call(a, c.method, key, c.method === "PUT" ? "v" : undefined);
      // One line of text, like every error; the peers that failed are in the header too.
      expect(res).toEqual({
        status: 502,
        body: expect.stringMatching(
          // its failure is said once, without naming it again
          new RegExp(`^the owner ${dead.url} could not be reached: (?:(?!${dead.url})[^\n])+\n$`),
        ),
        failedPeers: dead.url,
      });
    });
  }

  test("each unreachable peer of a write is counted in peerErrors", async () => {
    const [a, b, dead] = nodes as [Node, Node, Node];
    const before = a.group.stats().peerErrors;
    await del(a, keyOwnedBy(b.pool, b.url, "count-"));
    await put(a, keyOwnedBy(dead.pool, dead.url, "count-"), "v");
    expect({ a: a.group.stats().peerErrors - before, b: b.group.stats().peerErrors }).toEqual({ a: 2, b: 0 });
  });
});
