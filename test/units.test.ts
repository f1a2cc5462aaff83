import { describe, expect, test } from "bun:test";
import { formatBytes, formatElapsed, parseBytes, parseDuration } from "../src/core/units.ts";

describe("parseBytes", () => {
  test.each<{ text: string; want: number | undefined }>([
    { text: "0", want: 0 },
    { text: "1048576", want: 1_048_576 },
    { text: "12B", want: 12 },
    { text: "512KiB", want: 512 * 1024 },
    { text: "64MiB", want: 64 * 1024 ** 2 },
    { text: "1GiB", want: 1024 ** 3 },
    { text: "2Ki", want: 2048 },
    { text: "3Mi", want: 3 * 1024 ** 2 },
    { text: "1Gi", want: 1024 ** 3 },
    { text: "10MB", want: 10_000_000 },
    { text: "10M", want: 10_000_000 },
    { text: "5kb", want: 5000 },
    { text: "5K", want: 5000 },
    { text: "2GB", want: 2_000_000_000 },
    { text: "64mib", want: 64 * 1024 ** 2 },
    { text: "1.5KiB", want: 1536 },
    { text: "0.5", want: 0 }, // whole bytes, rounded down
    { text: "1.0001kB", want: 1000 },
    { text: "  64 MiB  ", want: 64 * 1024 ** 2 },
    { text: "9007199254740991", want: Number.MAX_SAFE_INTEGER },
    // invalid
    { text: "", want: undefined },
    { text: "   ", want: undefined },
    { text: "MiB", want: undefined },
    { text: "-1", want: undefined },
    { text: "-1KiB", want: undefined },
    { text: "1XB", want: undefined },
    { text: "1TiB", want: undefined },
    { text: "1e3", want: undefined },
    { text: "1,000", want: undefined },
    { text: "1.", want: undefined },
    { text: ".5", want: undefined },
    { text: "0x10", want: undefined },
    { text: "1 2", want: undefined },
    { text: "Infinity", want: undefined },
    { text: "9007199254740993", want: undefined }, // past the safe integers
    { text: "9999999GiB", want: undefined },
  ])("$text -> $want", ({ text, want }) => {
    expect(parseBytes(text)).toBe(want);
  });
});

describe("parseDuration", () => {
  test.each<{ text: string; want: number | undefined }>([
    { text: "0", want: 0 },
    { text: "250", want: 250 },
    { text: "36500d", want: 36500 * 86_400_000 }, // MAX_DURATION, 100 years
    { text: "36501d", want: undefined }, // would overflow int64 nanoseconds on the wire soon after
    { text: "99999999999999999999999d", want: undefined },
    { text: "1e400", want: undefined },
    { text: "1.5", want: 1.5 },
    { text: "250ms", want: 250 },
    { text: "2s", want: 2000 },
    { text: "1.5s", want: 1500 },
    { text: "5m", want: 300_000 },
    { text: "1h", want: 3_600_000 },
    { text: "2d", want: 172_800_000 },
    { text: "1h30m", want: 5_400_000 },
    { text: "1m5s", want: 65_000 },
    { text: "1s500ms", want: 1500 },
    { text: "1d1h1m1s1ms", want: 90_061_001 },
    { text: "  2s  ", want: 2000 },
    { text: "0s", want: 0 },
    // invalid
    { text: "", want: undefined },
    { text: "  ", want: undefined },
    { text: "ms", want: undefined },
    { text: "s1", want: undefined },
    { text: "1x", want: undefined },
    { text: "1sec", want: undefined },
    { text: "1 s", want: undefined },
    { text: "-1s", want: undefined },
    { text: "-5", want: undefined },
    { text: "1h-30m", want: undefined },
    { text: "1e3", want: undefined },
    { text: "1.s", want: undefined },
    { text: "soon", want: undefined },
  ])("$text -> $want", ({ text, want }) => {
    expect(parseDuration(text)).toBe(want);
  });
});

describe("formatBytes", () => {
  test.each<{ n: number; want: string }>([
    { n: 0, want: "0 B" },
    { n: 12, want: "12 B" },
    { n: 1023, want: "1023 B" },
    { n: 1024, want: "1 KiB" },
    { n: 1536, want: "1.5 KiB" },
    { n: 1100, want: "1.1 KiB" },
    { n: 64 * 1024 ** 2, want: "64 MiB" },
    { n: 1.5 * 1024 ** 2, want: "1.5 MiB" },
    { n: 1024 ** 3, want: "1 GiB" },
    { n: 1048575, want: "1 MiB" }, // rounds up into the next unit, not "1024.0 KiB"
    { n: 1024 ** 4, want: "1 TiB" },
    { n: 2048 * 1024 ** 4, want: "2048 TiB" }, // TiB is the largest unit
  ])("$n -> $want", ({ n, want }) => {
    expect(formatBytes(n)).toBe(want);
  });

  test("parseBytes reads back what formatBytes writes for whole units", () => {
    const sizes = [0, 12, 1024, 512 * 1024, 64 * 1024 ** 2, 1024 ** 3];
    expect(sizes.map((n) => parseBytes(formatBytes(n).replace(" ", "")))).toEqual(sizes);
  });
});

describe("formatElapsed", () => {
  test.each<[number, string]>([
    [0, "0ms"],
    [0.42, "0.4ms"],
    [3.25, "3.3ms"],
    [12.4, "12ms"],
    [999.4, "999ms"],
    [999.6, "1s"],
    [1000, "1s"],
    [1234, "1.2s"],
    [5000, "5s"],
    [59_999, "60s"],
    [60_000, "1m"],
    [125_000, "2m5s"],
    [3_600_000, "1h"],
    [3_780_000, "1h3m"],
  ])("%p ms is %p", (ms, want) => expect(formatElapsed(ms)).toBe(want));
});
