import { describe, expect, test } from "bun:test";
import { encodeResponse } from "../src/core/protocol.ts";
import type { Getter } from "../src/group/loader.ts";
import { Registry } from "../src/group/registry.ts";
import { httpTransport, PeerSet } from "../src/index.ts";
import { apiHandler } from "../src/node/api.ts";
import { nodeHandlers } from "../src/node/server.ts";

const enc = new TextEncoder();
const TEXT = "text/plain; charset=utf-8";
const RAW = "application/octet-stream";
const OWNER = "http://owner.test:8001";
const MAX_KEY_BYTES = 16;
const EXPIRES_AT = Date.UTC(2030, 0, 1); // the groups' clock is pinned far before it

/** VALUES is the source behind the test group; "boom" fails, "ttl" carries an expiry, anything else is missing. */
const VALUES = new Map<string, string | Uint8Array>([
  ["Tom", "630"],
  ["Jack", "589"],
  ["bin", new Uint8Array([0, 255, 10, 13])],
  ["Zoë 🙂", "unicode"],
]);

const getter: Getter = (key) => {
  if (key === "boom") throw new Error("disk on fire\n    at readDisk (disk.ts:1:1)");
  if (key === "ttl") return { value: "short-lived", expiresAt: EXPIRES_AT };
  return VALUES.get(key);
};

/** setup returns a fresh registry (one group "scores") and its handler, so no test sees another's cache. */
function setup() {
  const registry = new Registry();
  const group = registry.add({ name: "scores", getter, hotCacheRatio: 0, now: () => 1_000 });
  const handler = apiHandler({ registry, owner: () => OWNER, maxKeyBytes: MAX_KEY_BYTES });
  return { registry, group, handler };
}

const SHOWN = ["content-type", "allow", "expires", "x-geecache-cache", "x-geecache-from", "x-geecache-owner"];

/** answer reads what a test compares: status, body bytes and the headers that matter. */
async function answer(res: Response): Promise<{ status: number; body: Uint8Array; headers: Record<string, string> }> {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => SHOWN.includes(name)));
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()), headers };
}

const api = (query: string) => `http://x/api${query}`;

describe("apiHandler", () => {
  test.each<{
    name: string;
    method?: string;
    url: string;
    status: number;
    body: string | Uint8Array;
    headers: Record<string, string>;
  }>([
    {
      name: "a value is its raw bytes",
      url: api("?key=Tom"),
      status: 200,
      body: "630",
      headers: {
        "content-type": RAW,
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    {
      name: "binary bytes pass untouched",
      url: api("?key=bin"),
      status: 200,
      body: new Uint8Array([0, 255, 10, 13]),
      headers: {
        "content-type": RAW,
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    {
      name: "a unicode key",
      url: api(`?key=${encodeURIComponent("Zoë 🙂")}`),
      status: 200,
      body: "unicode",
      headers: {
        "content-type": RAW,
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    {
      name: "an explicit group",
      url: api("?key=Jack&group=scores"),
      status: 200,
      body: "589",
      headers: {
        "content-type": RAW,
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    {
      name: "an expiry is an Expires header",
      url: api("?key=ttl"),
      status: 200,
      body: "short-lived",
      headers: {
        "content-type": RAW,
        expires: "Tue, 01 Jan 2030 00:00:00 GMT",
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    // In process HEAD answers like GET; Bun.serve drops the body on the wire.
    {
      name: "HEAD is a GET",
      method: "HEAD",
      url: api("?key=Tom"),
      status: 200,
      body: "630",
      headers: {
        "content-type": RAW,
        "x-geecache-cache": "miss",
        "x-geecache-from": "loader",
        "x-geecache-owner": OWNER,
      },
    },
    {
      name: "no key",
      url: api(""),
      status: 400,
      body: "missing key: use /api?key=<key>\n",
      headers: { "content-type": TEXT },
    },
    {
      name: "an empty key",
      url: api("?key="),
      status: 400,
      body: "missing key: use /api?key=<key>\n",
      headers: { "content-type": TEXT },
    },
    {
      name: "an unknown key",
      url: api("?key=nobody"),
      status: 404,
      body: 'key "nobody" not found in group scores\n',
      headers: { "content-type": TEXT, "x-geecache-owner": OWNER },
    },
    {
      name: "an unknown group",
      url: api("?key=Tom&group=nope"),
      status: 404,
      body: "no such group: nope\n",
      headers: { "content-type": TEXT },
    },
    {
      name: "a key at the limit",
      url: api(`?key=${"a".repeat(MAX_KEY_BYTES)}`),
      status: 404,
      body: `key "${"a".repeat(MAX_KEY_BYTES)}" not found in group scores\n`,
      headers: { "content-type": TEXT, "x-geecache-owner": OWNER },
    },
    {
      name: "a key over the limit",
      url: api(`?key=${"a".repeat(MAX_KEY_BYTES + 1)}`),
      status: 414,
      body: `key is longer than the limit of ${MAX_KEY_BYTES} bytes\n`,
      headers: { "content-type": TEXT },
    },
    // 9 UTF-16 units, 18 bytes of UTF-8: the limit counts bytes.
    {
      name: "a multi-byte key over the limit in UTF-8 only",
      url: api(`?key=${encodeURIComponent("é".repeat(9))}`),
      status: 414,
      body: `key is longer than the limit of ${MAX_KEY_BYTES} bytes\n`,
      headers: { "content-type": TEXT },
    },
    {
      name: "POST",
      method: "POST",
      url: api("?key=Tom"),
      status: 405,
      body: "method POST is not allowed on /api; use GET, PUT or DELETE\n",
      headers: { "content-type": TEXT, allow: "GET, HEAD, PUT, DELETE" },
    },
    {
      name: "PATCH",
      method: "PATCH",
      url: api("?key=Tom"),
      status: 405,
      body: "method PATCH is not allowed on /api; use GET, PUT or DELETE\n",
      headers: { "content-type": TEXT, allow: "GET, HEAD, PUT, DELETE" },
    },
    {
      name: "OPTIONS",
      method: "OPTIONS",
      url: api("?key=Tom"),
      status: 405,
      body: "method OPTIONS is not allowed on /api; use GET, PUT or DELETE\n",
      headers: { "content-type": TEXT, allow: "GET, HEAD, PUT, DELETE" },
    },
    {
      name: "a failing loader is a 503 with its message's first line",
      url: api("?key=boom"),
      status: 503,
      body: 'group scores: loading "boom" failed: disk on fire\n',
      headers: { "content-type": TEXT, "x-geecache-owner": OWNER },
    },
  ])("$name: $status", async ({ method, url, status, body, headers }) => {
    const { handler } = setup();
    const got = await answer(await handler(new Request(url, { method })));
    expect(got).toEqual({ status, body: typeof body === "string" ? enc.encode(body) : body, headers });
    if (status >= 400) {
      const line = new TextDecoder().decode(got.body);
      expect(line.endsWith("\n") && line.indexOf("\n") === line.length - 1).toBe(true);
    }
  });

  test("a second get is a cache hit and does not call the loader again", async () => {
    const registry = new Registry();
    const calls: string[] = [];
    registry.add({ name: "scores", getter: (k) => (calls.push(k), VALUES.get(k)) });
    const handler = apiHandler({ registry });
    const first = await answer(await handler(new Request(api("?key=Tom"))));
    const second = await answer(await handler(new Request(api("?key=Tom"))));
    const headers = (cache: string, from: string) => ({
      "content-type": RAW,
      "x-geecache-cache": cache,
      "x-geecache-from": from,
    });
    expect({ first, second, calls }).toEqual({
      first: { status: 200, body: enc.encode("630"), headers: headers("miss", "loader") },
      second: { status: 200, body: enc.encode("630"), headers: headers("hit", "main") },
      calls: ["Tom"],
    });
  });

  test("a registry without groups answers 404", async () => {
    const got = await answer(await apiHandler({ registry: new Registry() })(new Request(api("?key=Tom"))));
    expect(got).toEqual({
      status: 404,
      body: enc.encode("no groups are configured\n"),
      headers: { "content-type": TEXT },
    });
  });

  test("the default key limit is 4 KiB of UTF-8", async () => {
    const { registry } = setup();
    const handler = apiHandler({ registry });
    const statuses = [];
    for (const key of ["a".repeat(4096), "a".repeat(4097), "€".repeat(1366)]) {
      statuses.push((await handler(new Request(api(`?key=${encodeURIComponent(key)}`)))).status);
    }
    expect(statuses).toEqual([404, 414, 414]);
  });
});

describe("nodeHandlers", () => {
  const routes = (pool?: PeerSet) => {
    const { registry, group } = setup();
    return { group, ...nodeHandlers({ registry, peers: pool, maxKeyBytes: MAX_KEY_BYTES }) };
  };
  const get = async (h: (req: Request) => Response | Promise<Response>, path: string) =>
    h(new Request(`http://x${path}`));

  test("/stats has every group's counters and caches after a few gets", async () => {
    const { main } = routes();
    for (const key of ["Tom", "Tom", "Jack", "nobody"]) await get(main, `/api?key=${key}`);
    const res = await get(main, "/stats");
    const { memory, ...body } = (await res.json()) as { memory: Record<string, number> };
    // The process's memory: the five figures, each a whole number of bytes, and a resident set above zero.
    expect(Object.keys(memory).sort()).toEqual(["arrayBuffers", "external", "heapTotal", "heapUsed", "rss"]);
    expect(Object.values(memory).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    expect(memory.rss).toBeGreaterThan(0);
    expect({ status: res.status, type: res.headers.get("content-type"), body }).toEqual({
      status: 200,
      type: "application/json;charset=utf-8",
      body: {
        peers: [],
        down: [],
        out: {},
        groups: {
          scores: {
            stats: {
              gets: 4,
              cacheHits: 1,
              peerLoads: 0,
              peerErrors: 0,
              loads: 3,
              loadsDeduped: 3,
              localLoads: 2,
              localLoadErrs: 1,
              serverRequests: 0,
            },
            caches: {
              // Each miss looks in main and hot twice (get, then load) and main once more (local load).
              main: { bytes: 13, items: 2, gets: 10, hits: 1, evictions: 0 },
              hot: { bytes: 0, items: 0, gets: 6, hits: 0, evictions: 0 },
            },
            cacheBytes: 64 * 1024 * 1024,
          },
        },
      },
    });
  });

  test("/stats names self and the peers when the node has a pool", async () => {
    const pool = new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] });
    pool.setPeers(["http://127.0.0.1:8002", "http://127.0.0.1:8001"]);
    const { main } = routes(pool);
    const body = (await (await get(main, "/stats")).json()) as { self: string; peers: string[] };
    expect({ self: body.self, peers: body.peers }).toEqual({
      self: "http://127.0.0.1:8001",
      peers: ["http://127.0.0.1:8002", "http://127.0.0.1:8001"],
    });
  });

  test.each<{ path: string; status: number; body: string }>([
    { path: "/healthz", status: 200, body: '{"status":"ok"}' },
    { path: "/api?key=Tom", status: 200, body: "630" },
    { path: "/nope", status: 404, body: "no route /nope\n" },
    { path: "/index.html", status: 404, body: "no route /index.html\n" }, // "/" is the status page (test/node-status.test.ts)
    { path: "/api/extra?key=Tom", status: 404, body: "no route /api/extra\n" },
  ])("main and api both answer $path with $status", async ({ path, status, body }) => {
    const { main, api } = routes(new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] }));
    for (const h of [main, api]) {
      const res = await get(h, path);
      expect({ status: res.status, body: await res.text() }).toEqual({ status, body });
    }
  });

  test("main serves the peer routes; api does not", async () => {
    const { main, api } = routes(new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] }));
    const peer = await get(main, "/_geecache/scores/Tom");
    const onApi = await get(api, "/_geecache/scores/Tom");
    expect({
      main: {
        status: peer.status,
        type: peer.headers.get("content-type"),
        body: new Uint8Array(await peer.arrayBuffer()),
      },
      api: {
        status: onApi.status,
        type: onApi.headers.get("content-type"),
        body: new Uint8Array(await onApi.arrayBuffer()),
      },
    }).toEqual({
      main: { status: 200, type: "application/x-protobuf", body: encodeResponse(enc.encode("630")) },
      api: { status: 404, type: TEXT, body: enc.encode("no route /_geecache/scores/Tom\n") },
    });
  });

  test("without a pool there are no peer routes at all", async () => {
    const { main } = routes();
    const res = await get(main, "/_geecache/scores/Tom");
    expect({ status: res.status, body: await res.text() }).toEqual({
      status: 404,
      body: "no route /_geecache/scores/Tom\n",
    });
  });

  test("the API through main carries the owner from the pool's ring", async () => {
    const { main } = routes(new PeerSet({ self: "http://127.0.0.1:8001", transports: [httpTransport()] }));
    const res = await get(main, "/api?key=Tom");
    expect({ status: res.status, owner: res.headers.get("x-geecache-owner") }).toEqual({
      status: 200,
      owner: "http://127.0.0.1:8001",
    });
  });
});
