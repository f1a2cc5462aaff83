import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { decodeResponse, encodeResponse } from "../src/core/protocol.ts";
import { Registry } from "../src/group/registry.ts";
import { httpTransport } from "../src/index.ts";
import { apiHandler } from "../src/node/api.ts";

// GET on /api and on the peer route answers a cache hit without a promise (and /api shares header
// sets between answers); api.test.ts and http-routes.test.ts cover what they answer, this file that
// the shortcut changes none of it.
const EXPIRES_AT = Date.UTC(2030, 0, 1);

function setup() {
  const registry = new Registry();
  const getter = (key: string) =>
    key === "ttl" ? { value: "short", expiresAt: EXPIRES_AT } : key === "missing" ? undefined : `v-${key}`;
  registry.add({ name: "scores", getter, hotCacheRatio: 0, now: () => 1_000 });
  const handler = apiHandler({ registry, owner: (k) => `http://node-${k.length % 2}.test:8001` });
  return { handler, get: (key: string) => handler(new Request(`http://x/api?key=${encodeURIComponent(key)}`)) };
}

async function seen(res: Response | Promise<Response>) {
  const r = await res;
  return { status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) };
}

describe("the /api hit path", () => {
  test("a miss answers with a promise, the hit after it with a Response, and both say the same but cache and from", async () => {
    const { get } = setup();
    const miss = get("Tom");
    expect(miss).toBeInstanceOf(Promise);
    const missed = await seen(miss);
    const hit = get("Tom");
    expect(hit).toBeInstanceOf(Response);
    const owner = "http://node-1.test:8001";
    const common = { "content-type": "application/octet-stream", "x-geecache-owner": owner };
    expect([missed, await seen(hit)]).toEqual([
      { status: 200, body: "v-Tom", headers: { ...common, "x-geecache-cache": "miss", "x-geecache-from": "loader" } },
      { status: 200, body: "v-Tom", headers: { ...common, "x-geecache-cache": "hit", "x-geecache-from": "main" } },
    ]);
  });

  test("changing one answer's headers leaves the next answer's alone", async () => {
    const { get } = setup();
    await get("Tom");
    const first = (await get("Tom")) as Response;
    first.headers.set("x-extra", "1");
    first.headers.delete("x-geecache-owner");
    const second = await seen(get("Tom"));
    expect(second.headers).toEqual({
      "content-type": "application/octet-stream",
      "x-geecache-cache": "hit",
      "x-geecache-from": "main",
      "x-geecache-owner": "http://node-1.test:8001",
    });
  });

  test("each key gets its own owner, and a value with an expiry its Expires, on hits too", async () => {
    const { get } = setup();
    const keys = ["Tom", "Jack", "ttl"];
    for (const k of keys) await get(k);
    const hits = await Promise.all(keys.map(async (k) => (await seen(get(k))).headers));
    expect(hits.map((h) => [h["x-geecache-owner"], h.expires, h["x-geecache-cache"]])).toEqual([
      ["http://node-1.test:8001", undefined, "hit"],
      ["http://node-0.test:8001", undefined, "hit"],
      ["http://node-1.test:8001", new Date(EXPIRES_AT).toUTCString(), "hit"],
    ]);
  });

  test("a missing key is still a 404 with the owner header", async () => {
    const { get } = setup();
    const r = await seen(get("missing"));
    expect([r.status, r.headers["x-geecache-owner"]]).toEqual([404, "http://node-1.test:8001"]);
  });
});

describe("the peer route hit path", () => {
  function peerSetup() {
    const registry = new Registry();
    registry.add({
      name: "scores",
      getter: (key: string) => (key === "missing" ? undefined : `v-${key}`),
      hotCacheRatio: 0,
    });
    const handler = httpTransport().routes!(registry).handler;
    const peer = (method: string, key: string, body?: Uint8Array) =>
      handler(new Request(`http://a.test:8001/_geecache/scores/${encodeURIComponent(key)}`, { method, body }));
    return { peer };
  }

  async function decoded(res: Response | Promise<Response>) {
    const r = await res;
    const body = new Uint8Array(await r.arrayBuffer());
    return {
      status: r.status,
      type: r.headers.get("content-type"),
      value: r.status === 200 ? decodeResponse(body).value : undefined,
    };
  }

  test("a miss answers with a promise, the hit after it with a Response carrying the same protobuf", async () => {
    const { peer } = peerSetup();
    const miss = peer("GET", "Tom");
    expect(miss).toBeInstanceOf(Promise);
    const missed = await decoded(miss);
    const hit = peer("GET", "Tom");
    expect(hit).toBeInstanceOf(Response);
    const want = { status: 200, type: "application/x-protobuf", value: new TextEncoder().encode("v-Tom") };
    expect([missed, await decoded(hit)]).toEqual([want, want]);
  });

  test("PUT, DELETE and a missing key answer as before", async () => {
    const { peer } = peerSetup();
    const put = await peer("PUT", "k", encodeResponse(ByteView.from("put"), 0));
    const got = await decoded(peer("GET", "k"));
    const del = await peer("DELETE", "k");
    const missing = await peer("GET", "missing");
    expect([put.status, got.value, del.status, missing.status]).toEqual([
      204,
      new TextEncoder().encode("put"),
      204,
      404,
    ]);
  });
});
