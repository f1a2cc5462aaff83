import { describe, expect, test } from "bun:test";
import { ByteView } from "../src/core/byteview.ts";

const bytesOf = (...b: number[]) => new Uint8Array(b);

describe("ByteView", () => {
  test("from(Uint8Array) copies in: mutating the source later does not change the view", () => {
    const src = bytesOf(1, 2, 3);
    const v = ByteView.from(src);
    src[0] = 99;
    expect(v.bytes()).toEqual(bytesOf(1, 2, 3));
  });

  test("bytes() copies out: mutating the result does not change the view", () => {
    const v = ByteView.from(bytesOf(1, 2, 3));
    const out = v.bytes();
    out[0] = 99;
    expect(v.bytes()).toEqual(bytesOf(1, 2, 3));
    expect(v.bytes()).not.toBe(v.bytes());
  });

  test.each<{ s: string; bytes: number[] }>([
    { s: "", bytes: [] },
    { s: "abc", bytes: [0x61, 0x62, 0x63] },
    { s: "é", bytes: [0xc3, 0xa9] },
    { s: "€", bytes: [0xe2, 0x82, 0xac] },
    { s: "😀", bytes: [0xf0, 0x9f, 0x98, 0x80] },
  ])("from($s) is UTF-8 and round trips through toString", ({ s, bytes }) => {
    const v = ByteView.from(s);
    expect({ length: v.length, bytes: v.bytes(), str: v.toString() }).toEqual({
      length: bytes.length,
      bytes: new Uint8Array(bytes),
      str: s,
    });
  });

  test.each<{ start?: number; end?: number; want: string }>([
    { want: "hello world" },
    { start: 6, want: "world" },
    { start: 0, end: 5, want: "hello" },
    { start: -5, want: "world" },
    { start: 2, end: -2, want: "llo wor" },
    { start: -3, end: -1, want: "rl" },
    { start: 5, end: 5, want: "" },
    { start: 8, end: 3, want: "" },
    { start: 0, end: 100, want: "hello world" },
  ])("slice($start, $end) is $want", ({ start, end, want }) => {
    const s = ByteView.from("hello world").slice(start, end);
    expect({ str: s.toString(), length: s.length }).toEqual({ str: want, length: want.length });
  });

  test("slice of a slice is relative to the slice, and the parent is unchanged", () => {
    const v = ByteView.from("0123456789");
    const s = v.slice(2, 8).slice(1, -1);
    expect({ s: s.toString(), v: v.toString() }).toEqual({ s: "3456", v: "0123456789" });
  });

  test.each<{ name: string; other: () => ByteView | Uint8Array | string; want: boolean }>([
    { name: "same ByteView bytes", other: () => ByteView.from("abc"), want: true },
    { name: "other ByteView", other: () => ByteView.from("abd"), want: false },
    { name: "equal Uint8Array", other: () => bytesOf(0x61, 0x62, 0x63), want: true },
    { name: "shorter Uint8Array", other: () => bytesOf(0x61, 0x62), want: false },
    { name: "equal string", other: () => "abc", want: true },
    { name: "longer string", other: () => "abcd", want: false },
    { name: "empty string", other: () => "", want: false },
    { name: "a slice with the same bytes", other: () => ByteView.from("xabcx").slice(1, 4), want: true },
  ])("equals: $name -> $want", ({ other, want }) => {
    expect(ByteView.from("abc").equals(other())).toBe(want);
  });

  test("empty views are equal to empty values", () => {
    const e = ByteView.from("");
    expect([e.equals(""), e.equals(new Uint8Array(0)), e.equals(ByteView.from(new Uint8Array(0)))]).toEqual([
      true,
      true,
      true,
    ]);
  });

  test("at returns each byte and undefined past the end", () => {
    const v = ByteView.from(bytesOf(10, 20, 30));
    expect([v.at(0), v.at(1), v.at(2), v.at(3)]).toEqual([10, 20, 30, undefined]);
    expect(v.slice(1).at(0)).toBe(20);
  });

  test("copyTo writes at the offset and returns the length", () => {
    const dst = new Uint8Array(6).fill(0xff);
    expect(ByteView.from(bytesOf(1, 2, 3)).copyTo(dst, 2)).toBe(3);
    expect(dst).toEqual(bytesOf(0xff, 0xff, 1, 2, 3, 0xff));
    const dst0 = new Uint8Array(2);
    expect(ByteView.from("ab").copyTo(dst0)).toBe(2);
    expect(dst0).toEqual(bytesOf(0x61, 0x62));
  });

  test("copyTo throws when the value does not fit", () => {
    expect(() => ByteView.from("abc").copyTo(new Uint8Array(4), 2)).toThrow(RangeError);
  });

  test("blob() is a new copy each time and holds the value's bytes", async () => {
    const v = ByteView.from("héllo");
    const b = v.blob();
    expect(v.blob()).not.toBe(b); // the value keeps no Blob alive
    const got: { size: number; bytes: Uint8Array } = { size: b.size, bytes: await b.bytes() };
    expect(got).toEqual({ size: 6, bytes: v.bytes() });
  });

  test("view() is the value's own bytes, not a copy", () => {
    const v = ByteView.from("héllo").slice(1);
    // biome-ignore lint/suspicious/noSelfCompare: two calls must return the same view
    expect({ same: v.view() === v.view(), bytes: [...v.view()] }).toEqual({ same: true, bytes: [...v.bytes()] });
  });

  test("blob() of a slice holds only the slice", async () => {
    const b = ByteView.from("hello world").slice(6).blob();
    expect(await b.text()).toBe("world");
  });

  test("from(ByteView) returns the same instance", () => {
    const v = ByteView.from("x");
    expect(ByteView.from(v)).toBe(v);
  });

  test.each<{ name: string; value: unknown }>([
    { name: "number", value: 123 },
    { name: "null", value: null },
    { name: "undefined", value: undefined },
    { name: "plain object", value: { length: 1 } },
    { name: "ArrayBuffer", value: new ArrayBuffer(2) },
  ])("from($name) throws a TypeError", ({ value }) => {
    expect(() => ByteView.from(value as never)).toThrow(TypeError);
  });

  test("the TypeError names what was passed", () => {
    expect(() => ByteView.from(123 as never)).toThrow("got number");
  });

  test("adopt wraps without copying", () => {
    const src = bytesOf(1, 2);
    const v = ByteView.adopt(src);
    src[0] = 7;
    expect(v.bytes()).toEqual(bytesOf(7, 2));
  });
});
