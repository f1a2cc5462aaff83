import { describe, expect, test } from "bun:test";
import { type ErrorCode, GeeCacheError } from "../src/core/errors.ts";
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  errorFromStatus,
  formatGrpcTimeout,
  grpcStatusOf,
  parseGrpcTimeout,
} from "../src/transport/grpc/status.ts";

describe("gRPC status", () => {
  const codes: [ErrorCode, number][] = [
    ["NOT_FOUND", 5],
    ["INVALID_ARGUMENT", 3],
    ["KEY_TOO_LONG", 3],
    ["UNKNOWN_GROUP", 3],
    ["LOAD_FAILED", 14],
    ["ABORTED", 4],
    ["UNAUTHORIZED", 16],
    ["TOO_LARGE", 8],
    ["PEER_FAILED", 13],
    ["INTERNAL", 13],
    ["NO_ROUTE", 13],
  ];
  test("grpcStatusOf maps each error code to its status", () => {
    expect(codes.map(([code]) => [code, grpcStatusOf(new GeeCacheError(code, "x"))])).toEqual(codes);
    expect(grpcStatusOf(new Error("a bug"))).toBe(13);
  });

  test("errorFromStatus: NOT_FOUND is about the key, UNAVAILABLE the peer's source; every other status is the peer failing", () => {
    expect([5, 3, 4, 8, 12, 13, 14, 16].map((s) => errorFromStatus(s, "m", "grpc://p:1").code)).toEqual([
      "NOT_FOUND",
      "PEER_FAILED",
      "PEER_FAILED",
      "PEER_FAILED",
      "PEER_FAILED",
      "PEER_FAILED",
      "LOAD_FAILED",
      "PEER_FAILED",
    ]);
  });

  const messages: [string, string][] = [
    ["plain words", "plain words"],
    ["100% sure", "100%25 sure"],
    ["first line\nsecond", "first line"],
    ["é", "%C3%A9"],
    ["tab\there", "tab%09here"],
  ];
  for (const [text, wire] of messages) {
    test(`grpc-message ${JSON.stringify(text)}`, () => {
      expect(encodeGrpcMessage(text)).toBe(wire);
      expect(decodeGrpcMessage(wire)).toBe(text.split("\n")[0]!);
    });
  }
  test("a malformed grpc-message escape is kept as it came", () => expect(decodeGrpcMessage("50%")).toBe("50%"));

  const timeouts: [string | undefined, number | undefined][] = [
    ["100m", 100],
    ["2S", 2000],
    ["1M", 60_000],
    ["1H", 3_600_000],
    ["1500u", 1.5],
    ["5000000n", 5],
    [undefined, undefined],
    ["", undefined],
    ["10", undefined],
    ["123456789m", undefined],
    ["-1m", undefined],
  ];
  for (const [header, ms] of timeouts) {
    test(`grpc-timeout ${JSON.stringify(header)} is ${ms} ms`, () => expect(parseGrpcTimeout(header)).toBe(ms));
  }
  test("formatGrpcTimeout writes whole ms, seconds past 8 digits", () => {
    expect([formatGrpcTimeout(2000), formatGrpcTimeout(0.2), formatGrpcTimeout(1e9)]).toEqual([
      "2000m",
      "1m",
      "1000000S",
    ]);
  });
});
