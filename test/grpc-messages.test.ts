import { describe, expect, test } from "bun:test";
import { decodeResponse, encodeResponse } from "../src/core/protocol.ts";
import { decodeRequest, decodeSetRequest, encodeRequest, encodeSetRequest } from "../src/transport/grpc/messages.ts";

const bytes = (...b: number[]) => new Uint8Array(b);
const ascii = (s: string) => [...new TextEncoder().encode(s)];

describe("geecachepb messages", () => {
  const requests: { name: string; group: string; key: string; wire: Uint8Array<ArrayBuffer> }[] = [
    { name: "group=1, key=2", group: "g", key: "Tom", wire: bytes(0x0a, 1, ...ascii("g"), 0x12, 3, ...ascii("Tom")) },
    { name: "an empty key is left out (proto3)", group: "g", key: "", wire: bytes(0x0a, 1, ...ascii("g")) },
    { name: "UTF-8 keys", group: "g", key: "é", wire: bytes(0x0a, 1, ...ascii("g"), 0x12, 2, 0xc3, 0xa9) },
  ];
  for (const c of requests) {
    test(`Request: ${c.name}`, () => {
      expect(encodeRequest(c.group, c.key)).toEqual(c.wire);
      expect(decodeRequest(c.wire)).toEqual({ group: c.group, key: c.key });
    });
  }

  test("SetRequest: group=1, key=2, value=3, expire=4 (Unix ns)", () => {
    const wire = encodeSetRequest("g", "k", bytes(7, 8), 1_000);
    expect(wire).toEqual(
      bytes(0x0a, 1, ...ascii("g"), 0x12, 1, ...ascii("k"), 0x1a, 2, 7, 8, 0x20, 0x80, 0x94, 0xeb, 0xdc, 0x03),
    ); // 1e9 ns
    expect(decodeSetRequest(wire)).toEqual({ group: "g", key: "k", value: bytes(7, 8), expiresAt: 1_000 });
    expect(decodeSetRequest(encodeSetRequest("g", "k", bytes(), 0))).toEqual({
      group: "g",
      key: "k",
      value: bytes(),
      expiresAt: 0,
    });
  });

  test("decoders skip unknown fields of every wire type (minute_qps=2 is a double)", () => {
    const response = bytes(0x0a, 1, 0x41, 0x11, ...new Array(8).fill(0), 0x18, 0x80, 0x94, 0xeb, 0xdc, 0x03);
    expect(decodeResponse(response)).toEqual({ value: bytes(0x41), expiresAt: 1000 });
    const request = bytes(0x0a, 1, ...ascii("g"), 0x28, 5, 0x35, 1, 2, 3, 4, 0x3a, 0, 0x12, 1, ...ascii("k"));
    expect(decodeRequest(request)).toEqual({ group: "g", key: "k" });
  });

  test("a Get's Response is the HTTP peer answer's bytes", () => {
    expect(encodeResponse(bytes(0x36, 0x33, 0x30))).toEqual(bytes(0x0a, 3, 0x36, 0x33, 0x30));
  });

  const malformed: { name: string; wire: Uint8Array }[] = [
    { name: "a length past the end", wire: bytes(0x0a, 5, 1) },
    { name: "a truncated varint", wire: bytes(0x28, 0x80) },
    { name: "field number 0", wire: bytes(0x02, 0) },
    { name: "wire type 3 (groups)", wire: bytes(0x0b) },
    { name: "a truncated fixed64", wire: bytes(0x11, 1, 2) },
    { name: "a key that is not UTF-8", wire: bytes(0x12, 1, 0xff) },
  ];
  for (const c of malformed) {
    test(`malformed: ${c.name} throws a RangeError`, () => {
      expect(() => decodeRequest(c.wire)).toThrow(RangeError);
      expect(() => decodeSetRequest(c.wire)).toThrow(RangeError);
    });
  }
});
