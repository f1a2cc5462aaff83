import { describe, expect, test } from "bun:test";
import { GeeCacheError } from "../src/core/errors.ts";
import { encodeResponse } from "../src/core/protocol.ts";
import { DEFAULT_BASE_PATH } from "../src/index.ts";
import { HttpPeer } from "../src/transport/http/client.ts";
import { httpTransport } from "../src/transport/http/index.ts";
import { startCluster, type TestNode } from "./helpers/cluster.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Seen {
  method: string;
  path: string;
  accept: string | null;
  authorization: string | null;
}

/** peerServer is a real server on a free port; route answers each request by its key. */
function peerServer(route: (key: string) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      seen.push({
        method: req.method,
        path,
        accept: req.headers.get("accept"),
        authorization: req.headers.get("authorization"),
      });
      return route(decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)));
    },
  });
  return {
    url: server.url.href.replace(/\/$/, ""),
    seen,
    stop: () => server.stop(true),
    [Symbol.asyncDispose]: () => server.stop(true),
  };
}

const client = (url: string, timeout = 5000, headers?: Record<string, string>) =>
  new HttpPeer({ url, basePath: DEFAULT_BASE_PATH, timeout, headers });

/** outcome turns a get into plain data, with the peer's URL written as PEER so tables can name it. */
async function outcome(p: Promise<{ value: Uint8Array; expiresAt: number }>, url: string) {
  try {
    const r = await p;
    return { ok: { value: dec.decode(r.value), expiresAt: r.expiresAt } };
  } catch (err) {
    const e = err as GeeCacheError;
    return { error: { name: e.name, code: e.code, message: e.message.replaceAll(url, "PEER") } };
  }
}

const protobuf = (value: string, expiresAt = 0) =>
  new Response(encodeResponse(enc.encode(value), expiresAt), { headers: { "content-type": "application/x-protobuf" } });

describe("HttpPeer.get against a real server", () => {
  test.each<{ name: string; respond: () => Response; want: unknown }>([
    { name: "a protobuf 200 decodes", respond: () => protobuf("630"), want: { ok: { value: "630", expiresAt: 0 } } },
    {
      name: "an expiry round-trips",
      respond: () => protobuf("v", 1_900_000_000_123),
      want: { ok: { value: "v", expiresAt: 1_900_000_000_123 } },
    },
    {
      name: "an empty body is an empty value",
      respond: () => new Response(new Uint8Array(0)),
      want: { ok: { value: "", expiresAt: 0 } },
    },
    {
      name: "404 is NOT_FOUND with the peer's message",
      respond: () => new Response('key "k" not found in group scores\n', { status: 404 }),
      want: { error: { name: "GeeCacheError", code: "NOT_FOUND", message: 'key "k" not found in group scores' } },
    },
    {
      name: "404 without a body is NOT_FOUND naming the peer",
      respond: () => new Response(null, { status: 404 }),
      want: { error: { name: "GeeCacheError", code: "NOT_FOUND", message: 'key "k" not found on peer PEER' } },
    },
    {
      name: "404 no such group is PEER_FAILED: the peer is misconfigured, the key may exist",
      respond: () => new Response("no such group: scores\n", { status: 404 }),
      want: { error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER: no such group: scores" } },
    },
    {
      name: "404 with code NO_ROUTE is PEER_FAILED (another base path)",
      respond: () =>
        new Response("no route /_geecache/scores/k\n", { status: 404, headers: { "x-geecache-error": "NO_ROUTE" } }),
      want: {
        error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER: no route /_geecache/scores/k" },
      },
    },
    {
      name: "500 is PEER_FAILED with the status and the first line",
      respond: () => new Response("kaput\nmore detail\n", { status: 500 }),
      want: { error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER answered 500: kaput" } },
    },
    {
      name: "503 without a body is PEER_FAILED with the status",
      respond: () => new Response(null, { status: 503 }),
      want: { error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER answered 503" } },
    },
    {
      name: "503 with code LOAD_FAILED is LOAD_FAILED: the peer is alive, its source failed",
      respond: () => new Response("origin down\n", { status: 503, headers: { "x-geecache-error": "LOAD_FAILED" } }),
      want: { error: { name: "GeeCacheError", code: "LOAD_FAILED", message: "peer PEER answered 503: origin down" } },
    },
    {
      name: "a garbage 200 body is PEER_FAILED malformed",
      respond: () => new Response(new Uint8Array([0x0a, 0xff])),
      want: {
        error: {
          name: "GeeCacheError",
          code: "PEER_FAILED",
          message: "peer PEER sent a malformed body: malformed protobuf: truncated varint",
        },
      },
    },
    {
      name: "a length past the end is PEER_FAILED malformed",
      respond: () => new Response(new Uint8Array([0x0a, 0x05, 0x36])),
      want: {
        error: {
          name: "GeeCacheError",
          code: "PEER_FAILED",
          message: "peer PEER sent a malformed body: malformed protobuf: length past the end",
        },
      },
    },
    {
      name: "404 with code NOT_FOUND is NOT_FOUND whatever the text says",
      respond: () =>
        new Response("no such group: words\n", { status: 404, headers: { "x-geecache-error": "NOT_FOUND" } }),
      want: { error: { name: "GeeCacheError", code: "NOT_FOUND", message: "no such group: words" } },
    },
    {
      name: "404 page not found from a Go peer with another base path is PEER_FAILED",
      respond: () => new Response("404 page not found\n", { status: 404 }),
      want: { error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER: 404 page not found" } },
    },
  ])("$name", async ({ respond, want }) => {
    await using server = peerServer(respond);
    expect(await outcome(client(server.url).get("scores", "k"), server.url)).toEqual(want as never);
    expect(server.seen).toEqual([
      { method: "GET", path: "/_geecache/scores/k", accept: "application/x-protobuf", authorization: null },
    ]);
  });

  test("the key and group are percent-encoded and the configured headers are sent", async () => {
    await using server = peerServer(() => protobuf("ok"));
    const got = await outcome(
      client(server.url, 5000, { authorization: "Bearer s3cret" }).get("my group", "Zoë 🙂/?#%"),
      server.url,
    );
    expect({ got, seen: server.seen }).toEqual({
      got: { ok: { value: "ok", expiresAt: 0 } },
      seen: [
        {
          method: "GET",
          path: "/_geecache/my%20group/Zo%C3%AB%20%F0%9F%99%82%2F%3F%23%25",
          accept: "application/x-protobuf",
          authorization: "Bearer s3cret",
        },
      ],
    });
  });

  test("a peer slower than the timeout is PEER_FAILED timed out", async () => {
    const release = Promise.withResolvers<void>();
    await using server = peerServer(async () => {
      await release.promise;
      return protobuf("late");
    });
    try {
      expect(await outcome(client(server.url, 200).get("scores", "slow"), server.url)).toEqual({
        error: { name: "GeeCacheError", code: "PEER_FAILED", message: "peer PEER: timed out after 200ms" },
      });
    } finally {
      release.resolve();
    }
  });

  test("a refused connection is PEER_FAILED", async () => {
    const server = peerServer(() => protobuf("never"));
    await server.stop();
    const err = (await client(server.url)
      .get("scores", "k")
      .catch((e: unknown) => e)) as GeeCacheError;
    expect({ name: err.name, code: err.code, message: err.message, hasCause: err.cause !== undefined }).toEqual({
      name: "GeeCacheError",
      code: "PEER_FAILED",
      message: expect.stringMatching(new RegExp(`^peer ${server.url}: \\S`)),
      hasCause: true,
    });
  });

  test("the caller's signal aborts a request in flight", async () => {
    const arrived = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    await using server = peerServer(async () => {
      arrived.resolve();
      await release.promise;
      return protobuf("late");
    });
    try {
      const ac = new AbortController();
      // The timeout is far beyond the test's, so only the abort can end this get.
      const pending = client(server.url, 600_000)
        .get("scores", "k", ac.signal)
        .catch((e: unknown) => e);
      await arrived.promise;
      ac.abort();
      const err = (await pending) as GeeCacheError;
      expect({
        isGeeCacheError: err instanceof GeeCacheError,
        code: err.code,
        timedOut: err.message.includes("timed out"),
        cause: (err.cause as Error).name,
      }).toEqual({
        isGeeCacheError: true,
        code: "ABORTED",
        timedOut: false,
        cause: "AbortError",
      });
    } finally {
      release.resolve();
    }
  });

  test("an already aborted signal never reaches the peer", async () => {
    await using server = peerServer(() => protobuf("never"));
    const err = (await client(server.url)
      .get("scores", "k", AbortSignal.abort())
      .catch((e: unknown) => e)) as GeeCacheError;
    expect({ isGeeCacheError: err instanceof GeeCacheError, seen: server.seen }).toEqual({
      isGeeCacheError: true,
      seen: [],
    });
  });
});

describe("two nodes", () => {
  test("a key owned by B is loaded by B through A, and A loads locally once B is gone", async () => {
    const loads: Record<"A" | "B", string[]> = { A: [], B: [] };
    const nameOf = (i: number) => (i === 0 ? "A" : "B");
    await using c = await startCluster(2, {
      transport: () => httpTransport({ timeout: 5000 }),
      getter: (i) => (key) => (loads[nameOf(i)].push(key), `${nameOf(i)}:${key}`),
      group: () => ({ hotCacheRatio: 0 }),
    });
    const [a, b] = c.nodes as [TestNode, TestNode];
    const urls = { A: a.url, B: b.url };
    const groups = { A: a.group, B: b.group };
    const ownedByB = Array.from({ length: 1000 }, (_, i) => `key-${i}`).filter((k) => c.ownerIndex(k) === 1);
    const [k1, k2] = ownedByB as [string, string];

    const get = async (key: string) => {
      const res = await fetch(`${a.httpUrl}/api?key=${key}`);
      return {
        status: res.status,
        body: await res.text(),
        from: res.headers.get("x-geecache-from"),
        owner: res.headers.get("x-geecache-owner"),
      };
    };

    expect({ res: await get(k1), loads }).toEqual({
      res: { status: 200, body: `B:${k1}`, from: "peer", owner: urls.B },
      loads: { A: [], B: [k1] },
    });
    expect({ A: groups.A.stats(), B: groups.B.stats() }).toEqual({
      A: {
        gets: 1,
        cacheHits: 0,
        peerLoads: 1,
        peerErrors: 0,
        loads: 1,
        loadsDeduped: 1,
        localLoads: 0,
        localLoadErrs: 0,
        serverRequests: 0,
      },
      B: {
        gets: 1,
        cacheHits: 0,
        peerLoads: 0,
        peerErrors: 0,
        loads: 1,
        loadsDeduped: 0,
        localLoads: 1,
        localLoadErrs: 0,
        serverRequests: 1,
      },
    });

    await c.stopNode(1);
    expect({ res: await get(k2), loads }).toEqual({
      res: { status: 200, body: `A:${k2}`, from: "loader", owner: urls.B },
      loads: { A: [k2], B: [k1] },
    });
    expect(groups.A.stats()).toEqual({
      gets: 2,
      cacheHits: 0,
      peerLoads: 1,
      peerErrors: 1,
      loads: 2,
      loadsDeduped: 2,
      localLoads: 1,
      localLoadErrs: 0,
      serverRequests: 0,
    });
  });
});
