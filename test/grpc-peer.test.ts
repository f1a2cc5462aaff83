// The gRPC peer client (GrpcPeer) against a real gRPC listener on port 0.
import { afterEach, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import type { Listening } from "../src/cluster/transport.ts";
import { ByteView } from "../src/core/byteview.ts";
import { GeeCacheError } from "../src/core/errors.ts";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import { Registry } from "../src/group/registry.ts";
import { type GrpcTransportOptions, grpcTransport } from "../src/transport/grpc/index.ts";
import { hasOpenssl, makeCerts } from "./helpers/tls.ts";

const dec = new TextDecoder();
const open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function serve(
  getter: Getter,
  options: GrpcTransportOptions = {},
  port = 0,
  tls?: { cert: string; key: string },
) {
  const registry = new Registry();
  const group = registry.add(new Group({ name: "scores", getter }));
  const l = await grpcTransport(options).listen!(registry, { host: "127.0.0.1", port, tls });
  open.push(l);
  return { url: l.url, group, listening: l };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof GeeCacheError ? err.code : `not a GeeCacheError: ${err}`;
  }
}

/** established counts this machine's established TCP connections to port (both ends are this process). */
function established(port: number): number {
  const out = Bun.spawnSync(["ss", "-Htn", "state", "established", `( dport = :${port} )`]).stdout.toString();
  return out.split("\n").filter((l) => l.trim() !== "").length;
}

describe("GrpcPeer", () => {
  test("get, set and remove travel; the expiry survives", async () => {
    const s = await serve((key) => key.toUpperCase());
    const client = grpcTransport().client(s.url);
    expect(dec.decode((await client.get("scores", "tom")).value)).toBe("TOM");
    const expiresAt = Date.now() + 60_000;
    await client.set!("scores", "k", ByteView.from("v"), expiresAt);
    expect(s.group.lookup("k")).toMatchObject({ expiresAt });
    const r = await client.get("scores", "k");
    expect({ value: dec.decode(r.value), expiresAt: r.expiresAt }).toEqual({ value: "v", expiresAt });
    await client.remove!("scores", "k");
    expect(s.group.lookup("k")).toBeUndefined();
    client.close?.();
  });

  test("peek answers the cached copy only: undefined when none, and it never loads", async () => {
    let loads = 0;
    const s = await serve((key) => {
      loads++;
      return key;
    });
    const client = grpcTransport().client(s.url);
    expect(await client.peek!("scores", "cold")).toBeUndefined();
    s.group.setLocal("warm", "cached", { expiresAt: Date.now() + 60_000 });
    expect(dec.decode((await client.peek!("scores", "warm"))!.value)).toBe("cached");
    expect(await code(client.peek!("other", "k"))).toBe("PEER_FAILED");
    expect(loads).toBe(0);
  });

  test("NOT_FOUND for a missing key, LOAD_FAILED for a failing source (the peer is alive), PEER_FAILED for an unknown group or a wrong token", async () => {
    const s = await serve((key) => (key === "fail" ? Promise.reject(new Error("down")) : undefined), {
      token: "right",
    });
    const good = grpcTransport({ token: "right" }).client(s.url);
    const bad = grpcTransport({ token: "wrong" }).client(s.url);
    expect(
      await Promise.all(
        [good.get("scores", "nope"), good.get("scores", "fail"), good.get("other", "k"), bad.get("scores", "nope")].map(
          code,
        ),
      ),
    ).toEqual(["NOT_FOUND", "LOAD_FAILED", "PEER_FAILED", "PEER_FAILED"]);
  });

  test("the peer timeout is sent as grpc-timeout, enforced locally, and cancels the stream", async () => {
    // A peer that reads the call and never answers.
    const seen = Promise.withResolvers<string>();
    const cancelled = Promise.withResolvers<number>();
    const silent = http2.createServer();
    silent.on("stream", (stream, headers) => {
      seen.resolve(String(headers["grpc-timeout"]));
      stream.on("error", () => {});
      stream.on("close", () => cancelled.resolve(stream.rstCode));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const client = grpcTransport({ timeout: 50 }).client(`grpc://127.0.0.1:${port}`);
      const start = performance.now();
      expect(await code(client.get("scores", "slow"))).toBe("PEER_FAILED");
      expect(performance.now() - start).toBeLessThan(1000);
      expect({ header: await seen.promise, rst: await cancelled.promise }).toEqual({
        header: "50m",
        rst: http2.constants.NGHTTP2_CANCEL,
      });
      client.close?.();
    } finally {
      silent.close();
    }
  });

  test("the caller's abort rejects with ABORTED and cancels the stream; the session stays usable", async () => {
    const gate = Promise.withResolvers<void>();
    const s = await serve(async (key) => (key === "slow" ? gate.promise.then(() => key) : key));
    const client = grpcTransport().client(s.url);
    const abort = new AbortController();
    const pending = code(client.get("scores", "slow", abort.signal));
    await client.get("scores", "warm"); // the slow call is on the wire by now
    abort.abort();
    expect(await pending).toBe("ABORTED");
    expect(await code(client.get("scores", "x", AbortSignal.abort()))).toBe("ABORTED");
    expect(dec.decode((await client.get("scores", "after")).value)).toBe("after");
    gate.resolve();
  });

  test("64 concurrent gets share one HTTP/2 connection", async () => {
    const gate = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<void>();
    let calls = 0;
    const s = await serve(async (key) => {
      if (++calls === 64) arrived.resolve();
      await gate.promise;
      return key;
    });
    const port = Number(new URL(s.url).port);
    const client = grpcTransport().client(s.url);
    const all = Promise.all(Array.from({ length: 64 }, (_, i) => client.get("scores", `k${i}`)));
    await arrived.promise; // all 64 calls are in flight on the server
    const during = established(port);
    gate.resolve();
    expect((await all).map((r) => dec.decode(r.value))).toEqual(Array.from({ length: 64 }, (_, i) => `k${i}`));
    expect({ during, after: established(port) }).toEqual({ during: 1, after: 1 });
  });

  test("after the peer closes (GOAWAY) and comes back on its port, the client reconnects", async () => {
    const first = await serve((key) => `one:${key}`);
    const port = Number(new URL(first.url).port);
    const client = grpcTransport({ timeout: 1000 }).client(first.url);
    expect(dec.decode((await client.get("scores", "a")).value)).toBe("one:a");
    await first.listening.close();
    expect(await code(client.get("scores", "b"))).toBe("PEER_FAILED"); // nobody listens
    await serve((key) => `two:${key}`, {}, port);
    expect(dec.decode((await client.get("scores", "c")).value)).toBe("two:c");
  });

  test.skipIf(!hasOpenssl())("grpcs:// with a private CA", async () => {
    using certs = makeCerts();
    const s = await serve((key) => key, {}, 0, { cert: certs.cert, key: certs.key });
    expect(s.url.startsWith("grpcs://127.0.0.1:")).toBe(true);
    expect(
      dec.decode(
        (
          await grpcTransport({ tls: { ca: certs.ca } })
            .client(s.url)
            .get("scores", "secure")
        ).value,
      ),
    ).toBe("secure");
    expect(await code(grpcTransport().client(s.url).get("scores", "untrusted"))).toBe("PEER_FAILED");
  });

  test("options are checked at construction", () => {
    expect(() => grpcTransport({ timeout: 0 })).toThrow(RangeError);
    expect(() => grpcTransport({ token: "" })).toThrow(TypeError);
    expect(() => grpcTransport({ maxValueBytes: -1 })).toThrow(RangeError);
    const t = grpcTransport();
    expect([t.accepts("grpc://a:1"), t.accepts("grpcs://a:1"), t.accepts("http://a:1")]).toEqual([true, true, false]);
  });
});
