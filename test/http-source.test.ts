// The HTTP origin source against a real origin (Bun.serve on port 0), then through the compiled binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import { Group } from "../src/group/group.ts";
import type { Getter, LoadedValue } from "../src/group/loader.ts";
import { freshness, httpSource, httpTemplate } from "../src/sources/http.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

const REQUEST_TIMEOUT_MS = 5000;
const SLOW_TIMEOUT_MS = 200;

/** ANSWERS is what the origin serves under /v/KEY; a key that is missing here is a 404. */
const ANSWERS: Record<string, { status?: number; body?: string; headers?: Record<string, string> }> = {
  Tom: { body: "630" },
  gone: { status: 410 },
  boom: { status: 500, body: "database on fire" },
  busy: { status: 503 },
  moved: { status: 301, headers: { location: "/v/Tom" } },
  fresh: { body: "f", headers: { "cache-control": "public, max-age=60" } },
  shared: { body: "s", headers: { "cache-control": "max-age=60, s-maxage=30" } },
  aged: { body: "a", headers: { "cache-control": "max-age=60", age: "20" } },
  stale: { body: "o", headers: { "cache-control": "max-age=60", age: "90" } },
  nostore: { body: "n", headers: { "cache-control": "no-store" } },
  nocache: { body: "c", headers: { "cache-control": "no-cache" } },
  private: { body: "p", headers: { "cache-control": "private, max-age=60" } },
  zero: { body: "z", headers: { "cache-control": "max-age=0" } },
  garbage: { body: "g", headers: { "cache-control": "max-age=soon" } },
};

let origin: ReturnType<typeof Bun.serve>;
let base: string;
/** seen holds the raw path (still percent-encoded) of every request the origin got, and hits counts them by key. */
const seen: string[] = [];
const hits = new Map<string, number>();
const authorization: (string | null)[] = [];
/** slowGate holds every /v/slow request until the test run ends. */
const slowGate = Promise.withResolvers<void>();

beforeAll(() => {
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      seen.push(path);
      authorization.push(req.headers.get("authorization"));
      if (!path.startsWith("/v/")) return new Response("no such route", { status: 404 });
      const key = decodeURIComponent(path.slice("/v/".length));
      hits.set(key, (hits.get(key) ?? 0) + 1);
      if (key === "slow") {
        await slowGate.promise;
        return new Response("late");
      }
      if (key.startsWith("echo:")) return new Response(key.slice("echo:".length));
      const a = ANSWERS[key];
      if (!a) return new Response("not here", { status: 404 });
      return new Response(a.body ?? "", { status: a.status ?? 200, headers: a.headers });
    },
  });
  base = `http://127.0.0.1:${origin.port}`;
});

afterAll(async () => {
  slowGate.resolve();
  await origin?.stop(true);
});

/** loaded runs a getter and shows its answer as plain data: text instead of bytes. */
async function loaded(getter: Getter, key: string): Promise<unknown> {
  const v = (await getter(key, { group: "g" })) as LoadedValue | undefined;
  const text = (b: unknown) =>
    b instanceof Uint8Array ? new TextDecoder().decode(b) : b instanceof ByteView ? b.toString() : b;
  if (v === undefined || v === null) return v;
  if (v instanceof Uint8Array || v instanceof ByteView) return text(v);
  if (typeof v === "object" && "value" in v) return { ...v, value: text(v.value) };
  return v;
}

async function loadError(getter: Getter, key: string): Promise<GeeCacheError> {
  try {
    await getter(key, { group: "g" });
  } catch (err) {
    expect(err).toBeInstanceOf(GeeCacheError);
    return err as GeeCacheError;
  }
  throw new Error(`loading ${key} did not fail`);
}

describe("httpSource answers", () => {
  test.each<[string, unknown]>([
    ["Tom", "630"],
    ["missing", undefined],
    ["gone", undefined],
    ["moved", "630"], // redirects are followed
    ["fresh", { value: "f", ttl: 60_000 }],
    ["shared", { value: "s", ttl: 30_000 }], // s-maxage wins: geecache is a shared cache
    ["aged", { value: "a", ttl: 40_000 }], // max-age minus Age
    ["stale", { value: "o", expiresAt: 1 }],
    ["nostore", { value: "n", expiresAt: 1 }],
    ["nocache", { value: "c", expiresAt: 1 }],
    ["private", { value: "p", expiresAt: 1 }],
    ["zero", { value: "z", expiresAt: 1 }],
    ["garbage", "g"], // an unreadable max-age says nothing: the group's TTL applies
  ])("%s", async (key, want) => {
    expect(await loaded(httpSource({ url: `${base}/v/{key}` }), key)).toEqual(want);
  });

  test.each([
    ["boom", /^origin http:\/\/127\.0\.0\.1:\d+\/v\/\{key\} answered 500 Internal Server Error \(key "boom"\)$/],
    ["busy", /answered 503 Service Unavailable/],
  ])("%s is LOAD_FAILED with the origin's status", async (key, message) => {
    const err = await loadError(httpSource({ url: `${base}/v/{key}` }), key);
    expect({ code: err.code, message: err.message }).toEqual({
      code: "LOAD_FAILED",
      message: expect.stringMatching(message),
    });
  });
});

describe("httpSource requests", () => {
  test.each(["a b", "a/b", "a+b", "100%", "?#&=", "ключ", "emoji 🎉", "tab\there", ".."])(
    "key %p arrives encoded once",
    async (key) => {
      seen.length = 0;
      expect(await loaded(httpSource({ url: `${base}/v/{key}` }), `echo:${key}`)).toBe(key);
      expect(seen).toEqual([`/v/${encodeURIComponent(`echo:${key}`)}`]);
    },
  );

  test.each([
    ["no {key}: appended as a path segment", "/v", "/v/Tom"],
    ["no {key}, trailing slash", "/v/", "/v/Tom"],
    ["{key} in the query", "/v/Tom?k={key}", "/v/Tom"],
  ])("%s", async (_, path, want) => {
    seen.length = 0;
    expect(await loaded(httpSource({ url: `${base}${path}` }), "Tom")).toBe("630");
    expect(seen).toEqual([want]);
  });

  test.each([".", ".."])(
    "key %p in the path is refused (URLs fold dot segments); in the query it is sent",
    async (key) => {
      const err = await loadError(httpSource({ url: `${base}/v/{key}` }), key);
      seen.length = 0;
      const inQuery = await loaded(httpSource({ url: `${base}/v/Tom?k={key}` }), key);
      expect({ code: err.code, inQuery, seen }).toEqual({ code: "INVALID_ARGUMENT", inQuery: "630", seen: ["/v/Tom"] });
    },
  );

  test("headers go to the origin", async () => {
    authorization.length = 0;
    await loaded(httpSource({ url: `${base}/v/{key}`, headers: { authorization: "Bearer t0ken" } }), "Tom");
    expect(authorization).toEqual(["Bearer t0ken"]);
  });

  test("a custom fetch is used", async () => {
    const urls: string[] = [];
    const getter = httpSource({
      url: "http://origin.invalid/x/{key}",
      fetch: async (url) => (urls.push(url), new Response("hi")),
    });
    expect({ value: await loaded(getter, "a b"), urls }).toEqual({
      value: "hi",
      urls: ["http://origin.invalid/x/a%20b"],
    });
  });
});

describe("httpSource failures", () => {
  test(`a slow origin times out after ${SLOW_TIMEOUT_MS} ms`, async () => {
    const started = performance.now();
    const err = await loadError(httpSource({ url: `${base}/v/{key}`, timeout: SLOW_TIMEOUT_MS }), "slow");
    const elapsed = performance.now() - started;
    expect({ code: err.code, message: err.message }).toEqual({
      code: "LOAD_FAILED",
      message: expect.stringContaining(`timed out after ${SLOW_TIMEOUT_MS}ms`),
    });
    expect(elapsed).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(SLOW_TIMEOUT_MS + 2000);
  });

  test("connection refused names the origin", async () => {
    const port = 0; // nothing can listen on port 0: a connection to it is always refused
    const err = await loadError(httpSource({ url: `http://127.0.0.1:${port}/v/{key}` }), "Tom");
    expect({ code: err.code, message: err.message }).toEqual({
      code: "LOAD_FAILED",
      message: expect.stringMatching(
        new RegExp(
          `^origin http://127\\.0\\.0\\.1:${port}/v/\\{key\\} is unreachable: connection refused \\(key "Tom"\\)$`,
        ),
      ),
    });
    expect(err.cause).toBeDefined();
  });

  test("a password in the URL never shows in a message", async () => {
    const err = await loadError(httpSource({ url: `http://user:s3cret@127.0.0.1:${origin.port}/v/{key}` }), "boom");
    expect(err.message).toContain("http://user:***@127.0.0.1");
    expect(err.message).not.toContain("s3cret");
  });

  test.each([
    ["ftp://x/{key}", /not an http:\/\/ or https:\/\/ URL/],
    ["not a url {key}", /is not a URL/],
    ["http://x/get?k=1", /has a query but no \{key\}/],
    ["http://u:s3cret@/{key}", /^(?!.*s3cret)/],
  ])("template %p is refused", (url, message) => {
    expect(() => httpTemplate(url)).toThrow(TypeError);
    expect(() => httpTemplate(url)).toThrow(message);
  });

  test.each([0, -1, Number.NaN])("timeout %p is refused", (timeout) => {
    expect(() => httpSource({ url: `${base}/v/{key}`, timeout })).toThrow(TypeError);
  });
});

describe("freshness", () => {
  // [Cache-Control, Age, ms]; "" is a header that is not sent.
  test.each<[string, string, number | undefined]>([
    ["", "", undefined],
    ["public", "", undefined],
    ["max-age=5", "", 5000],
    ['max-age="5"', "", 5000],
    ["Max-Age=5, must-revalidate", "", 5000],
    ["max-age=5", "2", 3000],
    ["max-age=5", "junk", 5000],
    ["s-maxage=1, max-age=5", "", 1000],
    ["max-age=-1", "", undefined],
    ["no-store, max-age=5", "", 0],
  ])("Cache-Control %p, Age %p → %p", (cc, age, want) => {
    const headers = new Headers();
    if (cc) headers.set("cache-control", cc);
    if (age) headers.set("age", age);
    expect(freshness(headers)).toBe(want);
  });
});

describe("httpSource in a Group", () => {
  test("max-age sets the expiry; no-store is served and not kept", async () => {
    const now = 1_000_000;
    const group = new Group({ name: "g", getter: httpSource({ url: `${base}/v/{key}` }), ttl: 5000, now: () => now });
    const before = { fresh: hits.get("fresh") ?? 0, nostore: hits.get("nostore") ?? 0, Tom: hits.get("Tom") ?? 0 };
    const fresh = [await group.getEntry("fresh"), await group.getEntry("fresh")];
    const nostore = [await group.getEntry("nostore"), await group.getEntry("nostore")];
    const tom = [await group.getEntry("Tom"), await group.getEntry("Tom")];
    expect({
      fresh: fresh.map((r) => [r.from, r.expiresAt]),
      nostore: nostore.map((r) => [r.from, r.value.toString()]),
      tom: tom.map((r) => [r.from, r.expiresAt]),
      originHits: {
        fresh: hits.get("fresh")! - before.fresh,
        nostore: hits.get("nostore")! - before.nostore,
        Tom: hits.get("Tom")! - before.Tom,
      },
    }).toEqual({
      fresh: [
        ["loader", now + 60_000],
        ["main", now + 60_000],
      ],
      nostore: [
        ["loader", "n"],
        ["loader", "n"],
      ],
      tom: [
        ["loader", now + 5000],
        ["main", now + 5000],
      ], // no Cache-Control: the group's ttl
      originHits: { fresh: 1, nostore: 2, Tom: 1 },
    });
  });
});

describe("geecache --source=http://...", () => {
  beforeAll(() => void requireBinary());

  test("serves the origin through /api: 200, 404, 503 with the origin's status", async () => {
    await using node = await spawnNode(["--port=0", `--source=${base}/v/{key}`, "--source-timeout=2s"]);
    expect(node.stdout.text).toContain(`source http origin ${base}/v/{key}`);
    const get = async (key: string) => {
      const res = await fetch(`${node.url}/api?key=${encodeURIComponent(key)}`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: res.status, body: await res.text(), expires: res.headers.get("expires") !== null };
    };
    expect({
      tom: await get("Tom"),
      tomAgain: await get("Tom"),
      fresh: await get("fresh"),
      encoded: await get("echo:a b/c+ü"),
      missing: await get("missing"),
      boom: await get("boom"),
    }).toEqual({
      tom: { status: 200, body: "630", expires: false },
      tomAgain: { status: 200, body: "630", expires: false },
      fresh: { status: 200, body: "f", expires: true },
      encoded: { status: 200, body: "a b/c+ü", expires: false },
      missing: { status: 404, body: expect.stringContaining("not found"), expires: false },
      boom: { status: 503, body: expect.stringContaining("answered 500"), expires: false },
    });
  });

  test("--source-timeout bounds a slow origin", async () => {
    await using node = await spawnNode([
      "--port=0",
      `--source=${base}/v/{key}`,
      `--source-timeout=${SLOW_TIMEOUT_MS}ms`,
    ]);
    const res = await fetch(`${node.url}/api?key=slow`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect({ status: res.status, body: await res.text() }).toEqual({
      status: 503,
      body: expect.stringContaining(`timed out after ${SLOW_TIMEOUT_MS}ms`),
    });
  });
});
