import { describe, expect, test } from "bun:test";
import { GeeCacheError } from "../src/core/errors.ts";
import { decodeResponse, encodeResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import { Registry } from "../src/group/registry.ts";
import {
  DEFAULT_BASE_PATH,
  DEFAULT_PEER_TIMEOUT,
  type HttpTransportOptions,
  httpTransport,
  PeerSet,
  type PeerSetOptions,
} from "../src/index.ts";
import { HttpPeer } from "../src/transport/http/client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TEXT = "text/plain; charset=utf-8";
const PROTOBUF = "application/x-protobuf";
const SELF = "http://localhost:8001";
const PEERS = ["http://localhost:8001", "http://localhost:8002", "http://localhost:8003"];
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(" ", ""), "hex"));

/** httpPeers is a PeerSet over the HTTP transport alone, as a node of HTTP peers has. */
function httpPeers(options: Partial<PeerSetOptions> & HttpTransportOptions = {}): PeerSet {
  const { self, hash, replicas, ...http } = options;
  return new PeerSet({ self, hash, replicas, transports: [httpTransport(http)] });
}

/** node builds a PeerSet and a registry whose group "scores" records every key its loader is asked for. */
function node(options: Partial<PeerSetOptions> & HttpTransportOptions = {}) {
  const loaded: string[] = [];
  const getter: Getter = (key) => {
    loaded.push(key);
    if (key === "boom") throw new Error("db down");
    if (key === "missing") return undefined;
    if (key === "empty") return "";
    return key === "Tom" ? "630" : `v:${key}`;
  };
  const pool = httpPeers({ self: SELF, ...options });
  const registry = new Registry();
  const group = registry.add(new Group({ name: "scores", getter, peers: pool, hotCacheRatio: 0 }));
  return { pool, registry, group, loaded, handler: pool.transports[0]!.routes!(registry).handler };
}

async function answer(res: Response) {
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    allow: res.headers.get("allow"),
    body: new Uint8Array(await res.arrayBuffer()) as Uint8Array,
  };
}

describe("HTTP peer routes", () => {
  test.each<{
    name: string;
    method?: string;
    path: string;
    status: number;
    type: string;
    allow?: string;
    body: Uint8Array | string;
    loaded: string[];
  }>([
    {
      name: '"630" is the protobuf 0a 03 36 33 30',
      path: "/_geecache/scores/Tom",
      status: 200,
      type: PROTOBUF,
      body: fromHex("0a 03 36 33 30"),
      loaded: ["Tom"],
    },
    {
      name: "an empty value is an empty body",
      path: "/_geecache/scores/empty",
      status: 200,
      type: PROTOBUF,
      body: new Uint8Array(0),
      loaded: ["empty"],
    },
    {
      name: "HEAD loads like GET",
      method: "HEAD",
      path: "/_geecache/scores/Tom",
      status: 200,
      type: PROTOBUF,
      body: fromHex("0a 03 36 33 30"),
      loaded: ["Tom"],
    },
    {
      name: "no key part",
      path: "/_geecache/scores",
      status: 400,
      type: TEXT,
      body: "malformed peer path: expected /_geecache/<group>/<key>\n",
      loaded: [],
    },
    {
      name: "an empty key",
      path: "/_geecache/scores/",
      status: 400,
      type: TEXT,
      body: "malformed peer path: expected /_geecache/<group>/<key>\n",
      loaded: [],
    },
    {
      name: "an empty group",
      path: "/_geecache//k",
      status: 400,
      type: TEXT,
      body: "malformed peer path: expected /_geecache/<group>/<key>\n",
      loaded: [],
    },
    {
      name: "nothing after the base path",
      path: "/_geecache/",
      status: 400,
      type: TEXT,
      body: "malformed peer path: expected /_geecache/<group>/<key>\n",
      loaded: [],
    },
    {
      name: "bad percent-encoding",
      path: "/_geecache/scores/%E0%A4%A",
      status: 400,
      type: TEXT,
      body: "malformed peer path: bad percent-encoding\n",
      loaded: [],
    },
    {
      name: "an unknown group",
      path: "/_geecache/nope/Tom",
      status: 404,
      type: TEXT,
      body: "no such group: nope\n",
      loaded: [],
    },
    {
      name: "an unknown key",
      path: "/_geecache/scores/missing",
      status: 404,
      type: TEXT,
      body: 'key "missing" not found in group scores\n',
      loaded: ["missing"],
    },
    {
      name: "a failing loader",
      path: "/_geecache/scores/boom",
      status: 503,
      type: TEXT,
      body: 'group scores: loading "boom" failed: db down\n',
      loaded: ["boom"],
    },
    {
      name: "a path outside the base path",
      path: "/elsewhere/scores/Tom",
      status: 404,
      type: TEXT,
      body: "no route /elsewhere/scores/Tom\n",
      loaded: [],
    },
    {
      name: "POST",
      method: "POST",
      path: "/_geecache/scores/Tom",
      status: 405,
      type: TEXT,
      allow: "GET, HEAD, PUT, DELETE",
      body: "method POST is not allowed on peer routes; use GET, PUT or DELETE\n",
      loaded: [],
    },
  ])("$name: $status", async ({ method, path, status, type, allow, body, loaded: wantLoaded }) => {
    const { handler, loaded } = node();
    const got = await answer(await handler(new Request(`http://x${path}`, { method })));
    expect({ ...got, loaded }).toEqual({
      status,
      type,
      allow: allow ?? null,
      body: typeof body === "string" ? enc.encode(body) : body,
      loaded: wantLoaded,
    });
  });

  test("a custom base path serves its own routes only", async () => {
    const { handler } = node({ basePath: "/_groupcache/" });
    const ok = await answer(await handler(new Request("http://x/_groupcache/scores/Tom")));
    const other = await answer(await handler(new Request("http://x/_geecache/scores/Tom")));
    expect({ ok: [ok.status, ok.body], other: [other.status, dec.decode(other.body)] }).toEqual({
      ok: [200, fromHex("0a 03 36 33 30")],
      other: [404, "no route /_geecache/scores/Tom\n"],
    });
  });

  const client = new HttpPeer({ url: "http://x", basePath: DEFAULT_BASE_PATH, timeout: 1000 });
  test.each([
    "a b",
    "a+b",
    "a/b",
    "/lead",
    "trail/",
    "100%",
    "50%25",
    "what?",
    "#tag",
    "a&b=c",
    "Zoë 🙂",
    "日本語",
    "'\"<>\\",
    "  ",
  ])("the key %p survives the URL", async (key) => {
    const { handler, loaded } = node();
    const res = await handler(new Request(client.urlFor("scores", key)));
    const body = decodeResponse(new Uint8Array(await res.arrayBuffer()));
    expect({ status: res.status, value: dec.decode(body.value), loaded }).toEqual({
      status: 200,
      value: `v:${key}`,
      loaded: [key],
    });
  });

  test("a group name is percent-decoded too", async () => {
    const loaded: string[] = [];
    const registry = new Registry();
    registry.add({ name: "my-group", getter: (k) => (loaded.push(k), "x") });
    const res = await httpTransport().routes!(registry).handler(new Request(`${SELF}/_geecache/my%2Dgroup/k`));
    expect({ status: res.status, loaded }).toEqual({ status: 200, loaded: ["k"] });
  });

  test("a peer request is loaded locally even when the ring names another owner, and never forwarded", async () => {
    const fetched: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      fetched.push(String(input));
      return new Response(encodeResponse(enc.encode("from a peer")), { headers: { "content-type": PROTOBUF } });
    }) as typeof fetch;
    const { pool, group, handler, loaded } = node({ hash: "crc32", replicas: 50, fetch: fakeFetch });
    pool.setPeers(PEERS);
    expect(pool.owner("Sam")).toBe("http://localhost:8003");

    const res = await handler(new Request("http://x/_geecache/scores/Sam"));
    const served = dec.decode(decodeResponse(new Uint8Array(await res.arrayBuffer())).value);
    expect({ status: res.status, served, loaded, fetched }).toEqual({
      status: 200,
      served: "v:Sam",
      loaded: ["Sam"],
      fetched: [],
    });

    // The same fetch is the one a get through the group uses, so the empty list above means something.
    const viaGroup = await group.getEntry("/x"); // owned by 8002
    expect({ from: viaGroup.from, value: viaGroup.value.toString(), loaded, fetched }).toEqual({
      from: "peer",
      value: "from a peer",
      loaded: ["Sam"],
      fetched: ["http://localhost:8002/_geecache/scores/%2Fx"],
    });
  });
});

describe("a PeerSet of HTTP peers", () => {
  test("pickPeer is undefined for keys self owns and a peer client (HTTP, health-checked) for the others", () => {
    const pool = httpPeers({ self: SELF, hash: "crc32", replicas: 50 });
    pool.setPeers(PEERS);
    const picks = Object.fromEntries(["Tom", "Sam", "/x"].map((k) => [k, pool.pickPeer(k)]));
    expect(picks.Tom).toBeUndefined();
    expect(typeof picks.Sam?.get).toBe("function");
    expect(pool.health().get("http://localhost:8003")).toEqual({
      down: false,
      since: null,
      failures: 0,
      lastError: null,
    });
    expect({ Sam: picks.Sam?.url, x: picks["/x"]?.url }).toEqual({
      Sam: "http://localhost:8003",
      x: "http://localhost:8002",
    });
  });

  test("crc32 with 50 replicas routes as Go GeeCache does", () => {
    const pool = httpPeers({ self: SELF, hash: "crc32", replicas: 50 });
    pool.setPeers(PEERS);
    expect({ Tom: pool.owner("Tom"), Sam: pool.owner("Sam"), x: pool.owner("/x") }).toEqual({
      Tom: "http://localhost:8001",
      Sam: "http://localhost:8003",
      x: "http://localhost:8002",
    });
  });

  test.each<{ name: string; peers: string[]; want: string[] }>([
    { name: "a new pool has only self", peers: [], want: [SELF] },
    { name: "self is added when not listed", peers: ["http://localhost:8002"], want: ["http://localhost:8002", SELF] },
    {
      name: "trailing slashes are dropped",
      peers: ["http://localhost:8002/", "http://localhost:8003//", `${SELF}/`],
      want: ["http://localhost:8002", "http://localhost:8003", SELF],
    },
    {
      name: "duplicates count once",
      peers: ["http://localhost:8002", "http://localhost:8002/", SELF],
      want: ["http://localhost:8002", SELF],
    },
  ])("setPeers: $name", ({ peers, want }) => {
    const pool = httpPeers({ self: `${SELF}/` });
    if (peers.length) pool.setPeers(peers);
    expect({
      self: pool.self,
      peers: pool.peers(),
      clients: want.filter((u) => u !== SELF).map((u) => pool.peer(u)?.url),
    }).toEqual({
      self: SELF,
      peers: want,
      clients: want.filter((u) => u !== SELF),
    });
  });

  test("with no other peers every key is self's", () => {
    const pool = httpPeers({ self: SELF });
    pool.setPeers([]);
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    expect(keys.filter((k) => pool.pickPeer(k) !== undefined || pool.owner(k) !== SELF)).toEqual([]);
  });

  test("setPeers keeps the client of a peer that stays", () => {
    const pool = httpPeers({ self: SELF });
    pool.setPeers(PEERS);
    const before = pool.peer("http://localhost:8002");
    pool.setPeers(PEERS.slice(0, 2));
    expect({ same: pool.peer("http://localhost:8002") === before, gone: pool.peer("http://localhost:8003") }).toEqual({
      same: true,
      gone: undefined,
    });
  });

  test("defaults", () => {
    const http = httpTransport();
    expect({ basePath: http.basePath, peerTimeout: http.timeout }).toEqual({
      basePath: DEFAULT_BASE_PATH,
      peerTimeout: DEFAULT_PEER_TIMEOUT,
    });
  });

  test.each<{
    name: string;
    options: Partial<PeerSetOptions> & HttpTransportOptions;
    error: new (...args: never[]) => Error;
    message: RegExp;
  }>([
    {
      name: "basePath without a leading slash",
      options: { self: SELF, basePath: "_geecache/" },
      error: RangeError,
      message: /basePath must start and end with "\/"/,
    },
    {
      name: "basePath without a trailing slash",
      options: { self: SELF, basePath: "/_geecache" },
      error: RangeError,
      message: /basePath must start and end with "\/"/,
    },
    {
      name: "timeout 0",
      options: { self: SELF, timeout: 0 },
      error: RangeError,
      message: /timeout must be > 0 ms, got 0/,
    },
    {
      name: "timeout below 0",
      options: { self: SELF, timeout: -5 },
      error: RangeError,
      message: /timeout must be > 0 ms, got -5/,
    },
    {
      name: "timeout NaN",
      options: { self: SELF, timeout: NaN },
      error: RangeError,
      message: /timeout must be > 0 ms, got NaN/,
    },
    {
      name: "a self without a scheme",
      options: { self: "localhost:8001" },
      error: GeeCacheError,
      message: /peer URL must look like http:\/\/host:port/,
    },
    {
      name: "a self with another scheme",
      options: { self: "ftp://localhost:8001" },
      error: GeeCacheError,
      message: /peer URL must look like http:\/\/host:port/,
    },
    {
      name: "an empty self",
      options: { self: "" },
      error: GeeCacheError,
      message: /peer URL must look like http:\/\/host:port/,
    },
    {
      name: "replicas 0",
      options: { self: SELF, replicas: 0 },
      error: RangeError,
      message: /replicas must be an integer from 1 to 10000/,
    },
    {
      name: "an empty token",
      options: { self: SELF, token: "" },
      error: TypeError,
      message: /token must be a non-empty string/,
    },
  ])("rejects $name", ({ options, error, message }) => {
    expect(() => httpPeers(options)).toThrow(error as new () => Error);
    expect(() => httpPeers(options)).toThrow(message);
  });

  test("setPeers rejects a peer that is not an http URL", () => {
    const pool = httpPeers({ self: SELF });
    expect(() => pool.setPeers(["localhost:8002"])).toThrow(
      /peer URL must look like http:\/\/host:port .*, got "localhost:8002"/,
    );
  });
});
