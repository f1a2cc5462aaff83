import { describe, expect, test } from "bun:test";
import { GeeCacheError } from "../src/core/errors.ts";
import { encodeResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import { decodeAnswers, decodeKeys, encodeAnswers, encodeKeys } from "../src/transport/http/batch.ts";
import { HttpPeer } from "../src/transport/http/client.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { startCluster } from "./helpers/cluster.ts";

const getter = () => (key: string) =>
  key.startsWith("missing") ? undefined : key === "bin" ? new Uint8Array([0xff, 0xfe, 0x00]) : key.toUpperCase();

async function batch(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/batch`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
}

describe("batch codec", () => {
  test("keys and answers survive a round trip", () => {
    const keys = ["Tom", "ключ", "a b/c", "x".repeat(300)];
    expect(decodeKeys(encodeKeys(keys))).toEqual(keys);
    const answers = encodeAnswers([
      { value: new Uint8Array([1, 2]), expiresAt: 1_900_000_000_000 },
      new GeeCacheError("NOT_FOUND", "no Jack"),
      new GeeCacheError("LOAD_FAILED", "db down"),
    ]);
    const m = decodeAnswers(answers, ["a", "b", "c"], "http://p");
    expect(m.get("a")).toEqual({ value: new Uint8Array([1, 2]), expiresAt: 1_900_000_000_000 });
    expect((m.get("b") as GeeCacheError).code).toBe("NOT_FOUND");
    expect((m.get("c") as GeeCacheError).code).toBe("PEER_FAILED");
  });

  test("a truncated body is refused", () => {
    expect(() => decodeKeys(new Uint8Array([5, 65]))).toThrow(RangeError);
    expect(() => decodeAnswers(new Uint8Array([200, 1]), ["a"], "p")).toThrow(RangeError);
    expect(() => decodeAnswers(new Uint8Array(0), ["a"], "p")).toThrow(RangeError);
  });
});

describe("POST /api/batch", () => {
  test("answers in request order, asks each owner once, loads each key once", async () => {
    const requests: string[][] = [[], [], []];
    // Without handoff peeks (nodes started together would peek each other first): only batch requests are counted.
    await using c = await startCluster(3, {
      getter,
      onPeerRequest: (i) => (peer) => requests[i]!.push(peer),
      peerSet: () => ({ handoffWindow: 0 }),
    });
    const keys = [...Array.from({ length: 30 }, (_, i) => `k${i}`), "missing1", "bin", "k3"];
    const res = await batch(c.nodes[0]!.httpUrl, { group: "scores", keys });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Record<string, unknown>[] };
    expect(results.map((r) => r.key)).toEqual(keys);
    for (const r of results.slice(0, 30))
      expect(r).toEqual({ key: r.key, status: 200, value: String(r.key).toUpperCase() });
    expect(results[30]).toEqual({ key: "missing1", status: 404, error: 'key "missing1" not found in group scores' });
    expect(results[31]).toEqual({
      key: "bin",
      status: 200,
      value: Buffer.from([0xff, 0xfe, 0]).toString("base64"),
      encoding: "base64",
    });
    // One request to each other owner that owns some of the keys, whatever the number of keys.
    const owners = new Set(keys.map((k) => c.urls[c.ownerIndex(k)]!).filter((u) => u !== c.urls[0]));
    expect(requests[0]!.toSorted()).toEqual([...owners].toSorted());
    const loads = c.nodes.reduce((n, node) => n + node.group.stats().localLoads, 0);
    expect(loads).toBe(31); // 30 + bin; missing1 failed; k3 twice in the request is loaded once
  });

  test("a second batch is served from the owners' caches; a down owner's keys are loaded locally", async () => {
    await using c = await startCluster(3, { getter, group: () => ({ hotCacheRatio: 0 }) });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    await (await batch(c.nodes[0]!.httpUrl, { keys })).json();
    await c.stopNode(1);
    const res = await batch(c.nodes[0]!.httpUrl, { keys });
    const { results } = (await res.json()) as { results: { key: string; status: number; value: string }[] };
    expect(results.map((r) => [r.status, r.value])).toEqual(keys.map((k) => [200, k.toUpperCase()]));
    const onOne = keys.filter((k) => c.ownerIndex(k) === 1).length;
    expect(onOne).toBeGreaterThan(0);
    expect(c.nodes[0]!.group.stats().peerErrors).toBe(onOne);
  });

  test("bad requests get one line of text", async () => {
    await using c = await startCluster(1, { getter, node: () => ({ maxBatchKeys: 3, maxKeyBytes: 8 }) });
    const url = c.nodes[0]!.httpUrl;
    const cases: [unknown, number, RegExp][] = [
      ["{not json", 400, /^bad JSON body/],
      [{ group: "scores" }, 400, /"keys"/],
      [{ keys: ["a", 2] }, 400, /keys\[1\] must be a non-empty string/],
      [{ keys: ["a", "b", "c", "d"] }, 413, /4 keys, over the limit of 3/],
      [{ keys: ["123456789"] }, 414, /keys\[0\] is longer than the limit of 8 bytes/],
      [{ group: "nope", keys: ["a"] }, 404, /no such group: nope/],
    ];
    for (const [body, status, pattern] of cases) {
      const res = await batch(url, body);
      const text = await res.text();
      expect([res.status, pattern.test(text), text.split("\n").length]).toEqual([status, true, 2]);
    }
    const get = await fetch(`${url}/api/batch`);
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("Group.getMany", () => {
  test("joins a single get in flight for the same key: the loader runs once per key", async () => {
    const gate = Promise.withResolvers<void>();
    const calls: string[] = [];
    const g = new Group({
      name: "batch-flight",
      getter: async (k) => (calls.push(k), await gate.promise, k.toUpperCase()),
    });
    const single = g.get("a");
    const many = g.getMany(["a", "b", "a"]);
    gate.resolve();
    const [one, all] = await Promise.all([single, many]);
    expect(one.toString()).toBe("A");
    expect([...all].map(([k, r]) => [k, (r as { value: { toString(): string } }).value.toString()])).toEqual([
      ["a", "A"],
      ["b", "B"],
    ]);
    expect(calls.toSorted()).toEqual(["a", "b"]);
    expect(g.stats()).toMatchObject({ gets: 3, loads: 3, localLoads: 2 });
  });

  test("a bad key is its entry's error; an aborted signal rejects the call", async () => {
    const gate = Promise.withResolvers<void>();
    const g = new Group({ name: "batch-bad", getter: async (k) => (await gate.promise, k) });
    const ctl = new AbortController();
    const p = g.getMany(["", "x"], { signal: ctl.signal });
    ctl.abort();
    expect(
      await p.then(
        () => "resolved",
        (e: GeeCacheError) => e.code,
      ),
    ).toBe("ABORTED");
    gate.resolve();
    const m = await g.getMany(["", "x"]);
    expect([(m.get("") as GeeCacheError).code, m.get("x") instanceof GeeCacheError]).toEqual([
      "INVALID_ARGUMENT",
      false,
    ]);
  });
});

test("the peer batch route needs the cluster token like the other peer routes", async () => {
  await using c = await startCluster(2, { getter, transport: () => httpTransport({ token: "peer-secret" }) });
  const url = `${c.nodes[0]!.httpUrl}/_geecache/_batch/scores`;
  const denied = await fetch(url, { method: "POST", body: encodeKeys(["a"]) });
  expect([denied.status, denied.headers.get("x-geecache-error")]).toEqual([401, "UNAUTHORIZED"]);
  const ok = await fetch(url, {
    method: "POST",
    body: encodeKeys(["a", "missing1"]),
    headers: { authorization: "Bearer peer-secret" },
  });
  const m = decodeAnswers(await ok.bytes(), ["a", "missing1"], "p");
  expect([
    new TextDecoder().decode((m.get("a") as { value: Uint8Array }).value),
    (m.get("missing1") as GeeCacheError).code,
  ]).toEqual(["A", "NOT_FOUND"]);
  // Through the cluster, with the token set on both: keys of node 1 come in one request.
  const res = await batch(c.nodes[0]!.httpUrl, { keys: ["a", "b", "c", "d"] });
  expect(((await res.json()) as { results: { value: string }[] }).results.map((r) => r.value)).toEqual([
    "A",
    "B",
    "C",
    "D",
  ]);
});

describe("HttpPeer.getMany against a peer without the batch route (Go GeeCache)", () => {
  test("falls back to one GET per key, and stops trying the batch route", async () => {
    const seen: string[] = [];
    using go = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const path = new URL(req.url).pathname;
        seen.push(`${req.method} ${path}`);
        const [, , group, key] = path.split("/");
        if (group !== "scores") return new Response(`no such group: ${group}\n`, { status: 404 });
        if (key === "missing") return new Response("key not found\n", { status: 404 });
        return new Response(encodeResponse(new TextEncoder().encode(decodeURIComponent(key!).toUpperCase())));
      },
    });
    const peer = new HttpPeer({ url: `http://127.0.0.1:${go.port}`, basePath: "/_geecache/", timeout: 2000 });
    const m = await peer.getMany("scores", ["a", "missing"]);
    expect(new TextDecoder().decode((m.get("a") as { value: Uint8Array }).value)).toBe("A");
    expect((m.get("missing") as GeeCacheError).code).toBe("NOT_FOUND");
    expect(seen.slice(0, 1).concat(seen.slice(1).toSorted())).toEqual([
      "POST /_geecache/_batch/scores",
      "GET /_geecache/scores/a",
      "GET /_geecache/scores/missing",
    ]);
    await peer.getMany("scores", ["b"]);
    expect(seen.slice(3)).toEqual(["GET /_geecache/scores/b"]);
  });
});
