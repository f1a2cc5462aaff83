import { describe, expect, test } from "bun:test";
import { GeeCacheError } from "../src/core/errors.ts";
import {
  decodeGetManyRequest,
  decodeGetManyResponse,
  encodeGetManyRequest,
  encodeGetManyResponse,
} from "../src/transport/grpc/batch.ts";
import { grpcTransport } from "../src/transport/grpc/index.ts";
import { startCluster } from "./helpers/cluster.ts";

describe("GetMany messages", () => {
  test("a request and a response round-trip, empty keys and empty values included", () => {
    const keys = ["a", "", "ключ", "b"];
    expect(decodeGetManyRequest(encodeGetManyRequest("scores", keys))).toEqual({ group: "scores", keys });
    const body = encodeGetManyResponse([
      { value: new TextEncoder().encode("va"), expiresAt: 1_700_000_000_000 },
      { value: new Uint8Array(0), expiresAt: 0 },
      new GeeCacheError("NOT_FOUND", "no such key"),
      new GeeCacheError("LOAD_FAILED", "source down"),
    ]);
    const out = decodeGetManyResponse(body, keys, "grpc://p:1");
    expect(
      [...out.entries()].map(([k, v]) => [
        k,
        v instanceof GeeCacheError ? v.code : [new TextDecoder().decode(v.value), v.expiresAt],
      ]),
    ).toEqual([
      ["a", ["va", 1_700_000_000_000]],
      ["", ["", 0]],
      ["ключ", "NOT_FOUND"],
      ["b", "LOAD_FAILED"],
    ]);
    expect(() => decodeGetManyResponse(body, ["only", "three", "keys"], "grpc://p:1")).toThrow(/4 entries for 3 keys/);
  });
});

describe("Group.getMany over gRPC peers", () => {
  test("misses owned by one peer go to it in one GetMany call; each key is loaded once, by its owner", async () => {
    const loads: string[][] = [[], [], []];
    const calls: string[] = [];
    await using c = await startCluster(3, {
      transport: () => grpcTransport(),
      getter: (i) => (key) => (key.startsWith("missing") ? undefined : (loads[i]!.push(key), `${key}@${i}`)),
      group: () => ({ hotCacheRatio: 0 }),
      peerSet: () => ({ handoffWindow: 0 }),
      onPeerRequest: (i) => (peer) => i === 0 && calls.push(peer),
    });
    const keys = [...Array.from({ length: 30 }, (_, i) => `k${i}`), "missing1"];
    const got = await c.nodes[0]!.group.getMany(keys);
    const owners = new Set(keys.map((k) => c.ownerIndex(k)).filter((i) => i !== 0));
    expect({
      values: keys.map((k) => {
        const r = got.get(k)!;
        return r instanceof GeeCacheError ? r.code : r.value.toString();
      }),
      calls: calls.length,
      loads: loads.map((l) => l.toSorted()),
    }).toEqual({
      values: keys.map((k) => (k === "missing1" ? "NOT_FOUND" : `${k}@${c.ownerIndex(k)}`)),
      calls: owners.size,
      loads: [0, 1, 2].map((i) => keys.filter((k) => k !== "missing1" && c.ownerIndex(k) === i).toSorted()),
    });
  });
});
