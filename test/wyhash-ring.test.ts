import { describe, expect, test } from "bun:test";
import { wyhash } from "../src/core/consistent-hash.ts";

// Every node must place keys alike, so the ring hash may get faster but never change its values.
describe("wyhash ring hash values are pinned", () => {
  test.each<[string, number]>([
    ["", 3804095577],
    ["Tom", 3689560748],
    ["0http://127.0.0.1:8001", 3225276013],
    ["49http://127.0.0.1:8003", 1585089918],
    ["caf\u00e9", 2793309611],
    ["\u{1F600}", 617692767],
  ])("%p", (s, h) => expect(wyhash(s)).toBe(h));

  test("equals the low 32 bits of Bun.hash.wyhash for many keys", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `key-${i * 7919}-\u00e9${String.fromCharCode(i)}`);
    expect(keys.filter((k) => wyhash(k) !== Number(BigInt.asUintN(32, Bun.hash.wyhash(k))))).toEqual([]);
  });
});
