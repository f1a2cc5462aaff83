// The rules for answering a peer (src/cluster/peer-service.ts), without any transport: a real
// Registry for what the group does with a call, and a recording fake for what the service asks of it.
import { describe, expect, test } from "bun:test";
import { type PeerGroup, type PeerGroups, PeerService } from "../src/cluster/peer-service.ts";
import { ByteView } from "../src/core/byteview.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import { Registry } from "../src/group/registry.ts";
import type { GetResult } from "../src/group/results.ts";

const enc = new TextEncoder();
const MAX = 8;

/** registry has the group "scores": `missing*` keys do not exist, `fail*` keys fail, others load as upper case. */
function registry(): Registry {
  const r = new Registry();
  r.add({
    name: "scores",
    getter: (key) => {
      if (key.startsWith("missing")) return undefined;
      if (key.startsWith("fail")) throw new Error("source down");
      return key.toUpperCase();
    },
  });
  return r;
}

/** Recorder is a PeerGroup that records each call the service makes, answering getLocal with answer. */
class Recorder implements PeerGroup {
  readonly calls: unknown[][] = [];
  constructor(readonly answer: (key: string) => Promise<GetResult> = () => Promise.reject(new Error("boom"))) {}
  getLocal(key: string, options?: { signal?: AbortSignal }): Promise<GetResult> {
    this.calls.push(["getLocal", key, options?.signal]);
    return this.answer(key);
  }
  peek(key: string): GetResult | undefined {
    this.calls.push(["peek", key]);
    return undefined;
  }
  setLocal(key: string, value: Uint8Array | ByteView, options: { ttl?: number; expiresAt?: number }): void {
    this.calls.push(["setLocal", key, ByteView.from(value).toString(), options]);
  }
  setCopy(key: string, value: Uint8Array | ByteView, options: { ttl?: number; expiresAt?: number }): void {
    this.calls.push(["setCopy", key, ByteView.from(value).toString(), options]);
  }
  removeLocal(key: string): void {
    this.calls.push(["removeLocal", key]);
  }
}

const groupsOf = (g: PeerGroup): PeerGroups => ({ get: (name) => (name === "scores" ? g : undefined) });

/** code settles a call into "ok" or its error's code (a thrown error that is no GeeCacheError: its class name). */
async function code(call: () => unknown): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (err) {
    return err instanceof GeeCacheError ? err.code : (err as Error).constructor.name;
  }
}

const plain = (r: GetResult | GeeCacheError) =>
  r instanceof GeeCacheError ? r.code : { value: r.value.toString(), expiresAt: r.expiresAt, from: r.from };

describe("PeerService", () => {
  test("a Registry is its PeerGroups; maxValueBytes must be a whole number above 0", () => {
    expect(new PeerService(registry(), { maxValueBytes: MAX }).maxValueBytes).toBe(MAX);
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new PeerService(registry(), { maxValueBytes: bad })).toThrow(/maxValueBytes must be a whole number/);
  });

  test("get loads here and answers a cache hit with a promise already settled, its signal never read", async () => {
    const service = new PeerService(registry(), { maxValueBytes: MAX });
    let signalRead = 0;
    const context = {
      get signal() {
        signalRead++;
        return undefined;
      },
    };
    const miss = await service.get("scores", "tom", context);
    const pending = service.get("scores", "tom", context);
    expect({
      miss: plain(miss),
      hitSettled: Bun.peek.status(pending),
      hit: plain(await pending),
      rate: (await pending).minuteQps! > 0,
      signalRead,
    }).toEqual({
      miss: { value: "TOM", expiresAt: 0, from: "loader" },
      hitSettled: "fulfilled",
      hit: { value: "TOM", expiresAt: 0, from: "main" },
      rate: true,
      signalRead: 1,
    });
  });

  test.each<{ name: string; call: (s: PeerService) => unknown; want: string }>([
    { name: "get, an unknown group", call: (s) => s.get("nope", "k"), want: "UNKNOWN_GROUP" },
    { name: "get, a missing key", call: (s) => s.get("scores", "missing-1"), want: "NOT_FOUND" },
    { name: "get, a failing source", call: (s) => s.get("scores", "fail-1"), want: "LOAD_FAILED" },
    { name: "get, an empty key", call: (s) => s.get("scores", ""), want: "INVALID_ARGUMENT" },
    { name: "peek, nothing cached", call: (s) => s.peek("scores", "tom"), want: "NOT_FOUND" },
    { name: "peek, an unknown group", call: (s) => s.peek("nope", "tom"), want: "UNKNOWN_GROUP" },
    { name: "set, an unknown group", call: (s) => s.set("nope", "k", enc.encode("v"), 0), want: "UNKNOWN_GROUP" },
    {
      name: "set, a value over the limit",
      call: (s) => s.set("scores", "k", new Uint8Array(MAX + 1), 0),
      want: "TOO_LARGE",
    },
    {
      name: "set, a value over the limit to an unknown group: the size is judged first",
      call: (s) => s.set("nope", "k", new Uint8Array(MAX + 1), 0),
      want: "TOO_LARGE",
    },
    { name: "set, a value at the limit", call: (s) => s.set("scores", "k", new Uint8Array(MAX), 0), want: "ok" },
    { name: "set, an empty key", call: (s) => s.set("scores", "", enc.encode("v"), 0), want: "INVALID_ARGUMENT" },
    { name: "remove, an unknown group", call: (s) => s.remove("nope", "k"), want: "UNKNOWN_GROUP" },
    { name: "remove, a key never cached", call: (s) => s.remove("scores", "k"), want: "ok" },
    { name: "getMany, an unknown group", call: (s) => s.getMany("nope", ["k"]), want: "UNKNOWN_GROUP" },
    { name: "group, an unknown group", call: (s) => s.group("nope"), want: "UNKNOWN_GROUP" },
  ])("$name: $want", async ({ call, want }) => {
    expect(await code(() => call(new PeerService(registry(), { maxValueBytes: MAX })))).toBe(want);
  });

  test("peek answers the cached copy (main, hot or a copy kept for another node) and loads nothing", async () => {
    const r = registry();
    const service = new PeerService(r, { maxValueBytes: MAX });
    r.get("scores")!.setLocal("a", "kept", { expiresAt: 0 });
    service.set("scores", "b", enc.encode("copy"), 0, "copy");
    expect([plain(service.peek("scores", "a")), plain(service.peek("scores", "b")), r.get("scores")!.stats()]).toEqual([
      { value: "kept", expiresAt: 0, from: "main" },
      { value: "copy", expiresAt: 0, from: "hot" },
      expect.objectContaining({ gets: 0, loads: 0 }),
    ]);
  });

  test("set stores as owner or as copy; expire 0 is never (ttl 0), else the expiry as given", () => {
    const g = new Recorder();
    const service = new PeerService(groupsOf(g), { maxValueBytes: MAX });
    service.set("scores", "a", enc.encode("v1"), 0);
    service.set("scores", "b", enc.encode("v2"), 1_900_000_000_000);
    service.set("scores", "c", enc.encode("v3"), 0, "copy");
    service.set("scores", "d", enc.encode("v4"), 1_900_000_000_000, "copy");
    service.remove("scores", "a");
    expect(g.calls).toEqual([
      ["setLocal", "a", "v1", { ttl: 0 }],
      ["setLocal", "b", "v2", { expiresAt: 1_900_000_000_000 }],
      ["setCopy", "c", "v3", { ttl: 0 }],
      ["setCopy", "d", "v4", { expiresAt: 1_900_000_000_000 }],
      ["removeLocal", "a"],
    ]);
  });

  test("a set from a peer lands in the real group's main cache and wins over what was there", async () => {
    const r = registry();
    const service = new PeerService(r, { maxValueBytes: MAX });
    await service.get("scores", "tom");
    service.set("scores", "tom", enc.encode("written"), 0);
    expect(plain(await service.get("scores", "tom"))).toEqual({ value: "written", expiresAt: 0, from: "main" });
    service.remove("scores", "tom");
    expect(r.get("scores")!.peek("tom")).toBeUndefined();
  });

  test("getMany answers one entry per key in order, each key's result or its coded error, loading each once", async () => {
    const r = registry();
    const service = new PeerService(r, { maxValueBytes: MAX });
    const got = await service.getMany("scores", ["a", "missing-1", "fail-1", "", "a"]);
    expect({ got: got.map(plain), loads: r.get("scores")!.stats().localLoads }).toEqual({
      got: [
        { value: "A", expiresAt: 0, from: "loader" },
        "NOT_FOUND",
        "LOAD_FAILED",
        "INVALID_ARGUMENT",
        { value: "A", expiresAt: 0, from: "loader" },
      ],
      loads: 1,
    });
  });

  test("getMany makes any other failure INTERNAL, and hands every key the caller's context", async () => {
    const g = new Recorder();
    const signal = new AbortController().signal;
    const got = await new PeerService(groupsOf(g), { maxValueBytes: MAX }).getMany("scores", ["x", "y"], { signal });
    expect({ got: got.map(plain), calls: g.calls }).toEqual({
      got: ["INTERNAL", "INTERNAL"],
      calls: [
        ["getLocal", "x", signal],
        ["getLocal", "y", signal],
      ],
    });
  });
});
