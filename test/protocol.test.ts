import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";
import { MAX_EXPIRES_AT } from "../src/core/protobuf.ts";
import { decodeResponse, encodeResponse } from "../src/core/protocol.ts";

const enc = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(" ", ""), "hex"));

describe("encodeResponse", () => {
  test('"630" is 0a 03 36 33 30, as GeeCache and groupcache encode it', () => {
    expect(encodeResponse(enc.encode("630"))).toEqual(fromHex("0a 03 36 33 30"));
  });

  test("a ByteView encodes like its bytes", () => {
    expect(encodeResponse(ByteView.from("630"))).toEqual(fromHex("0a 03 36 33 30"));
  });

  test("an empty value is an empty body", () => {
    expect(encodeResponse(new Uint8Array(0))).toHaveLength(0);
    expect(encodeResponse(ByteView.from(""))).toHaveLength(0);
  });

  test.each<{ n: number; header: string }>([
    { n: 1, header: "0a01" },
    { n: 127, header: "0a7f" },
    { n: 128, header: "0a8001" },
    { n: 300, header: "0aac02" },
    { n: 16_384, header: "0a808001" },
  ])("a $n-byte value has the length varint $header", ({ n, header }) => {
    const value = new Uint8Array(n).map((_, i) => i & 0xff);
    const body = encodeResponse(value);
    expect({ header: hex(body.subarray(0, header.length / 2)), length: body.length }).toEqual({
      header,
      length: header.length / 2 + n,
    });
    expect(body.subarray(header.length / 2)).toEqual(value);
  });

  test("expiresAt is field 3 in nanoseconds after the value", () => {
    // 1 ms = 1e6 ns = 0x0f4240 -> varint c0 84 3d
    expect(encodeResponse(enc.encode("a"), 1)).toEqual(fromHex("0a 01 61 18 c0 84 3d"));
    expect(encodeResponse(new Uint8Array(0), 1)).toEqual(fromHex("18 c0 84 3d"));
  });

  test("an expiry past what int64 nanoseconds hold is clamped, not thrown", () => {
    const body = encodeResponse(new TextEncoder().encode("v"), Number.MAX_VALUE);
    expect(decodeResponse(body)).toEqual({ value: new TextEncoder().encode("v"), expiresAt: MAX_EXPIRES_AT });
  });

  test("expiresAt 0 or negative is left out", () => {
    expect(encodeResponse(enc.encode("a"), 0)).toEqual(fromHex("0a 01 61"));
    expect(encodeResponse(enc.encode("a"), -5)).toEqual(fromHex("0a 01 61"));
  });
});

describe("decodeResponse", () => {
  test.each<{ name: string; value: Uint8Array; expiresAt: number }>([
    { name: "short value", value: enc.encode("630"), expiresAt: 0 },
    { name: "empty value", value: new Uint8Array(0), expiresAt: 0 },
    { name: "300 bytes", value: new Uint8Array(300).fill(7), expiresAt: 0 },
    { name: "binary with expiry", value: new Uint8Array([0, 0x0a, 0xff, 0x80]), expiresAt: 1_700_000_000_123 },
    { name: "empty with expiry", value: new Uint8Array(0), expiresAt: 1 },
    { name: "far future expiry", value: enc.encode("x"), expiresAt: 4_102_444_800_000 }, // 2100-01-01
  ])("round trip: $name", ({ value, expiresAt }) => {
    expect(decodeResponse(encodeResponse(value, expiresAt))).toEqual({ value, expiresAt });
  });

  test("0a 00 (proto2 explicit empty) is an empty value", () => {
    expect(decodeResponse(fromHex("0a 00"))).toEqual({ value: new Uint8Array(0), expiresAt: 0 });
  });

  test("an empty body is an empty value with no expiry", () => {
    expect(decodeResponse(new Uint8Array(0))).toEqual({ value: new Uint8Array(0), expiresAt: 0 });
  });

  test("field 3 nanoseconds are truncated to milliseconds", () => {
    // 1_999_999 ns = 0x1e847f -> varint ff 88 7a
    expect(decodeResponse(fromHex("18 ff 88 7a"))).toEqual({ value: new Uint8Array(0), expiresAt: 1 });
  });

  test("a negative int64 expiry decodes as no expiry", () => {
    // -1 as int64: ten-byte varint
    expect(decodeResponse(fromHex("0a 01 61 18 ff ff ff ff ff ff ff ff ff 01"))).toEqual({
      value: enc.encode("a"),
      expiresAt: 0,
    });
  });

  test.each<{ name: string; body: string }>([
    { name: "wire type 0 (varint, field 4)", body: "20 96 01" },
    { name: "wire type 1 (fixed64, field 7)", body: "39 00 00 00 00 00 00 f0 3f" },
    { name: "wire type 2 (bytes, field 5)", body: "2a 03 01 02 03" },
    { name: "wire type 5 (fixed32, field 6)", body: "35 01 02 03 04" },
    { name: "a large field number (field 1000, varint)", body: "c0 3e 01" },
  ])("skips an unknown field of $name", ({ body }) => {
    const want = { value: enc.encode("630"), expiresAt: 1 };
    const before = fromHex(`${body} 0a 03 36 33 30 18 c0 84 3d`);
    const after = fromHex(`0a 03 36 33 30 18 c0 84 3d ${body}`);
    expect({ before: decodeResponse(before), after: decodeResponse(after) }).toEqual({ before: want, after: want });
  });

  test("the last field 1 wins, as protobuf merges scalars", () => {
    expect(decodeResponse(fromHex("0a 01 61 0a 01 62")).value).toEqual(enc.encode("b"));
  });

  test.each<{ name: string; body: string; message: string }>([
    { name: "truncated tag varint", body: "80", message: "truncated varint" },
    { name: "truncated length varint", body: "0a", message: "truncated varint" },
    { name: "truncated length varint continuation", body: "0a 80", message: "truncated varint" },
    { name: "truncated field 3 varint", body: "18 c0 84", message: "truncated varint" },
    {
      name: "varint longer than 10 bytes",
      body: "18 ff ff ff ff ff ff ff ff ff ff 01",
      message: "longer than 10 bytes",
    },
    { name: "length past the end", body: "0a 05 36 33 30", message: "length past the end" },
    { name: "huge length", body: "0a ff ff ff ff 0f", message: "length past the end" },
    { name: "truncated fixed64", body: "11 00 00 00", message: "truncated field" },
    { name: "truncated fixed32", body: "35 00 00", message: "truncated field" },
    { name: "wire type 3 (start group)", body: "0b", message: "wire type 3" },
    { name: "wire type 4 (end group)", body: "0c", message: "wire type 4" },
    { name: "wire type 6", body: "0e", message: "wire type 6" },
    { name: "wire type 7", body: "0f", message: "wire type 7" },
    { name: "field number 0", body: "02 00", message: "field number 0" },
    { name: "field number 0, varint", body: "00 00", message: "field number 0" },
  ])("$name throws a RangeError", ({ body, message }) => {
    const buf = fromHex(body);
    expect(() => decodeResponse(buf)).toThrow(RangeError);
    expect(() => decodeResponse(buf)).toThrow(message);
  });
});

// groupcache's GetResponse { bytes value = 1; double minute_qps = 2; }: field 2, wire type 1, a
// little-endian IEEE double (1.5 is 00 00 00 00 00 00 f8 3f).
describe("minute_qps (field 2)", () => {
  test.each<{ name: string; qps: number; expiresAt: number; body: string }>([
    { name: "value and rate", qps: 1.5, expiresAt: 0, body: "0a 03 36 33 30 11 00 00 00 00 00 00 f8 3f" },
    {
      name: "value, rate and expiry, in field order",
      qps: 2,
      expiresAt: 1,
      body: "0a 03 36 33 30 11 00 00 00 00 00 00 00 40 18 c0 84 3d",
    },
    { name: "no rate (0): field 2 left out", qps: 0, expiresAt: 0, body: "0a 03 36 33 30" },
    { name: "a negative rate is left out", qps: -1, expiresAt: 0, body: "0a 03 36 33 30" },
    { name: "NaN is left out", qps: Number.NaN, expiresAt: 0, body: "0a 03 36 33 30" },
  ])("encodes $name", ({ qps, expiresAt, body }) => {
    expect(hex(encodeResponse(enc.encode("630"), expiresAt, qps))).toBe(hex(fromHex(body)));
  });

  test.each<{ name: string; body: string; want: { minuteQps?: number } }>([
    {
      name: "a groupcache GetResponse{value, minute_qps}",
      body: "0a 03 36 33 30 11 9a 99 99 99 99 99 b9 3f",
      want: { minuteQps: 0.1 },
    },
    {
      name: "the rate after the expiry",
      body: "0a 03 36 33 30 18 c0 84 3d 11 00 00 00 00 00 00 24 40",
      want: { minuteQps: 10 },
    },
    { name: "no field 2 (Go GeeCache)", body: "0a 03 36 33 30", want: {} },
    { name: "a zero rate sent anyway", body: "0a 03 36 33 30 11 00 00 00 00 00 00 00 00", want: {} },
    { name: "a negative rate", body: "0a 03 36 33 30 11 00 00 00 00 00 00 f0 bf", want: {} },
  ])("decodes $name", ({ body, want }) => {
    const res = decodeResponse(fromHex(body));
    expect({ value: new TextDecoder().decode(res.value), minuteQps: res.minuteQps }).toEqual({
      value: "630",
      minuteQps: want.minuteQps,
    });
    expect("minuteQps" in res).toBe(want.minuteQps !== undefined);
  });

  test("round trip keeps the double exactly", () => {
    const qps = 1234.5678901234;
    expect(decodeResponse(encodeResponse(enc.encode("v"), 0, qps)).minuteQps).toBe(qps);
  });
});
