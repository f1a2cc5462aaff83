import { describe, expect, test } from "bun:test";
import { type FrameProblem, frame, parseUnary } from "../src/transport/grpc/frame.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("gRPC framing", () => {
  test("frame writes flags 0, a big-endian length, then the message", () => {
    expect(frame(bytes(1, 2, 3))).toEqual(bytes(0, 0, 0, 0, 3, 1, 2, 3));
    expect(frame(bytes())).toEqual(bytes(0, 0, 0, 0, 0));
    const big = frame(new Uint8Array(0x01020304 & 0xffff)); // 0x0304 bytes
    expect([...big.subarray(0, 5)]).toEqual([0, 0, 0, 0x03, 0x04]);
  });

  const cases: { name: string; body: Uint8Array; max?: number; want: true | FrameProblem }[] = [
    { name: "one frame", body: bytes(0, 0, 0, 0, 2, 9, 8), want: true },
    { name: "an empty message", body: bytes(0, 0, 0, 0, 0), want: true },
    { name: "no body", body: bytes(), want: "empty" },
    { name: "a header cut short", body: bytes(0, 0, 0), want: "truncated" },
    { name: "a length past the end", body: bytes(0, 0, 0, 0, 9, 1, 2), want: "truncated" },
    { name: "a length of 4 GiB - 1", body: bytes(0, 0xff, 0xff, 0xff, 0xff, 1), want: "too-large" },
    { name: "a length over the limit", body: bytes(0, 0, 0, 0, 4, 1, 2, 3, 4), max: 3, want: "too-large" },
    { name: "the compressed flag", body: bytes(1, 0, 0, 0, 1, 7), want: "compressed" },
    { name: "undefined flags", body: bytes(0x80, 0, 0, 0, 1, 7), want: "bad-flags" },
    { name: "bytes after the frame", body: bytes(0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 0), want: "trailing" },
  ];
  for (const c of cases) {
    test(`parseUnary: ${c.name}`, () => {
      const got = parseUnary(c.body, c.max ?? 1024);
      expect(got.ok ? true : got.problem).toEqual(c.want);
      if (got.ok) expect(got.message).toEqual(c.body.subarray(5));
      else expect(got.detail).not.toBe("");
    });
  }

  test("frame and parseUnary round-trip", () => {
    const message = crypto.getRandomValues(new Uint8Array(70_000));
    expect(parseUnary(frame(message), 70_000)).toEqual({ ok: true, message });
  });
});
