// The gRPC listener against malformed and hostile input, spoken to with a raw node:http2 client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import type { Listening } from "../src/cluster/transport.ts";
import { decodeResponse } from "../src/core/protocol.ts";
import { Group } from "../src/group/group.ts";
import { Registry } from "../src/group/registry.ts";
import { frame } from "../src/transport/grpc/frame.ts";
import { grpcTransport } from "../src/transport/grpc/index.ts";
import { encodeRequest, encodeSetRequest } from "../src/transport/grpc/messages.ts";

const TOKEN = "s3cret";
const MAX_VALUE = 1024;

/** Answer is what a raw call got back: the HTTP status, the gRPC status (headers or trailers) and the body. */
interface Answer {
  http: number;
  grpc: string | undefined;
  body: Uint8Array;
}

let server: Listening;
const gate = Promise.withResolvers<void>();

/** call sends body as one POST to path and reads the whole answer; headers replace the defaults. */
function call(path: string, body: Uint8Array | undefined, headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  const session = http2.connect(server.url.replace("grpc:", "http:"));
  const { promise, resolve, reject } = Promise.withResolvers<Answer>();
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${TOKEN}`,
    ...headers,
  });
  let http = 0;
  let grpc: string | undefined;
  const chunks: Buffer[] = [];
  stream.on("response", (h) => {
    http = Number(h[":status"]);
    grpc = h["grpc-status"] as string | undefined;
  });
  stream.on("trailers", (h) => (grpc = h["grpc-status"] as string));
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("error", reject);
  stream.on("close", () => {
    session.close();
    resolve({ http, grpc, body: new Uint8Array(Buffer.concat(chunks)) });
  });
  stream.end(body);
  return promise;
}

const get = (key: string, headers?: http2.OutgoingHttpHeaders) =>
  call("/geecachepb.GroupCache/Get", frame(encodeRequest("scores", key)), headers);
const status = (a: Answer) => ({ http: a.http, grpc: a.grpc });

beforeAll(async () => {
  const registry = new Registry();
  registry.add(
    new Group({
      name: "scores",
      getter: async (key) => {
        if (key.startsWith("missing")) return undefined;
        if (key.startsWith("fail")) throw new Error("source down");
        if (key.startsWith("slow")) await gate.promise;
        if (key.startsWith("wait")) await Bun.sleep(30); // a source that takes a little while, longer than a 1 ms timer
        return key.toUpperCase();
      },
    }),
  );
  server = await grpcTransport({ token: TOKEN, maxValueBytes: MAX_VALUE }).listen!(registry, {
    host: "127.0.0.1",
    port: 0,
  });
});
afterAll(async () => {
  gate.resolve();
  await server.close();
});

describe("gRPC listener: answers", () => {
  test("Get: one frame holding Response{value=1}, then grpc-status 0 in the trailers", async () => {
    const a = await get("tom");
    expect({ ...status(a), body: [...a.body] }).toEqual({
      http: 200,
      grpc: "0",
      body: [0, 0, 0, 0, 5, 0x0a, 3, 0x54, 0x4f, 0x4d],
    });
  });

  const statuses: { name: string; answer: () => Promise<Answer>; grpc: string }[] = [
    { name: "missing key: NOT_FOUND", answer: () => get("missing-1"), grpc: "5" },
    { name: "source failure: UNAVAILABLE", answer: () => get("fail-1"), grpc: "14" },
    {
      name: "unknown group: INVALID_ARGUMENT",
      answer: () => call("/geecachepb.GroupCache/Get", frame(encodeRequest("nope", "k"))),
      grpc: "3",
    },
    { name: "empty key: INVALID_ARGUMENT", answer: () => get(""), grpc: "3" },
    { name: "no token: UNAUTHENTICATED", answer: () => get("tom", { authorization: "" }), grpc: "16" },
    { name: "a wrong token: UNAUTHENTICATED", answer: () => get("tom", { authorization: "Bearer wrong" }), grpc: "16" },
    {
      name: "a value over maxValueBytes: RESOURCE_EXHAUSTED",
      answer: () =>
        call("/geecachepb.GroupCache/Set", frame(encodeSetRequest("scores", "k", new Uint8Array(MAX_VALUE + 1), 0))),
      grpc: "8",
    },
    {
      name: "a body far over the limit: RESOURCE_EXHAUSTED",
      answer: () => call("/geecachepb.GroupCache/Set", new Uint8Array(200_000)),
      grpc: "8",
    },
    {
      name: "a slow load past grpc-timeout: DEADLINE_EXCEEDED",
      answer: () => get("slow-1", { "grpc-timeout": "20m" }),
      grpc: "4",
    },
    {
      name: "the longest grpc-timeout (99999999H) is no deadline",
      answer: () => get("wait-1", { "grpc-timeout": "99999999H" }),
      grpc: "0",
    },
  ];
  for (const c of statuses)
    test(c.name, async () => expect(status(await c.answer())).toEqual({ http: 200, grpc: c.grpc }));

  test("Set then Get then Remove", async () => {
    expect(
      status(
        await call(
          "/geecachepb.GroupCache/Set",
          frame(encodeSetRequest("scores", "w", new TextEncoder().encode("written"), 0)),
        ),
      ),
    ).toEqual({ http: 200, grpc: "0" });
    expect(decodeResponse((await get("w")).body.subarray(5)).value).toEqual(new TextEncoder().encode("written"));
    expect(status(await call("/geecachepb.GroupCache/Remove", frame(encodeRequest("scores", "w"))))).toEqual({
      http: 200,
      grpc: "0",
    });
    // Loaded again; this second Get of w also carries w's rate (minute_qps, field 2).
    expect(decodeResponse((await get("w")).body.subarray(5))).toEqual({
      value: new TextEncoder().encode("W"),
      expiresAt: 0,
      minuteQps: expect.any(Number),
    });
  });
});

describe("gRPC listener: bad input never crashes it", () => {
  const cases: { name: string; answer: () => Promise<Answer>; want: { http: number; grpc: string | undefined } }[] = [
    {
      name: "a truncated frame header",
      answer: () => call("/geecachepb.GroupCache/Get", new Uint8Array([0, 0, 0])),
      want: { http: 200, grpc: "13" },
    },
    {
      name: "a length prefix larger than the body",
      answer: () => call("/geecachepb.GroupCache/Get", new Uint8Array([0, 0, 0, 0, 50, 0x0a, 1])),
      want: { http: 200, grpc: "13" },
    },
    {
      name: "no message at all",
      answer: () => call("/geecachepb.GroupCache/Get", undefined),
      want: { http: 200, grpc: "13" },
    },
    {
      name: "the compressed flag",
      answer: () => call("/geecachepb.GroupCache/Get", new Uint8Array([1, 0, 0, 0, 2, 0x0a, 0])),
      want: { http: 200, grpc: "12" },
    },
    {
      name: "a malformed protobuf",
      answer: () => call("/geecachepb.GroupCache/Get", frame(new Uint8Array([0x0a, 9, 1]))),
      want: { http: 200, grpc: "3" },
    },
    {
      name: "an unknown method",
      answer: () => call("/geecachepb.GroupCache/Peek", frame(encodeRequest("scores", "k"))),
      want: { http: 200, grpc: "12" },
    },
    {
      name: "an unknown service",
      answer: () => call("/other.Service/Get", frame(encodeRequest("scores", "k"))),
      want: { http: 200, grpc: "12" },
    },
    {
      name: "a JSON POST",
      answer: () =>
        call("/geecachepb.GroupCache/Get", new TextEncoder().encode("{}"), { "content-type": "application/json" }),
      want: { http: 415, grpc: undefined },
    },
    {
      name: "an HTTP/2 GET",
      answer: () => call("/", undefined, { ":method": "GET" }),
      want: { http: 405, grpc: undefined },
    },
  ];
  for (const c of cases) {
    test(`${c.name}, then a Get still answers`, async () => {
      expect(status(await c.answer())).toEqual(c.want);
      expect(status(await get("tom"))).toEqual({ http: 200, grpc: "0" });
    });
  }

  test("an HTTP/1.1 request and raw garbage on the port, then a Get still answers", async () => {
    const port = Number(new URL(server.url).port);
    const r = await fetch(`http://127.0.0.1:${port}/geecachepb.GroupCache/Get`, { method: "POST", body: "x" }).then(
      (res) => res.status,
      () => "refused",
    );
    expect(r === "refused" || (typeof r === "number" && r >= 400)).toBe(true);
    const { promise, resolve } = Promise.withResolvers<void>();
    await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.end("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff garbage frames"),
        close: () => resolve(),
        data: () => {},
        error: () => resolve(),
      },
    });
    await promise;
    expect(status(await get("tom"))).toEqual({ http: 200, grpc: "0" });
  });
});
