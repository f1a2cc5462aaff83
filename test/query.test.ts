import { describe, expect, test } from "bun:test";
import { queryParams } from "../src/node/query.ts";

const BASE = "http://127.0.0.1:8001/api";
const NAMES = ["key", "group", "ttl", "", "k", "keys"];

/** same checks that queryParams(url) answers every name as new URL(url).searchParams does. */
function same(url: string): void {
  const want = new URL(url).searchParams;
  const got = queryParams(url);
  expect(NAMES.map((n) => [n, got.get(n)])).toEqual(NAMES.map((n) => [n, want.get(n)]));
}

describe("queryParams reads a query as URLSearchParams does", () => {
  test.each([
    "",
    "?",
    "?key=Tom",
    "?key=Tom&group=scores",
    "?group=scores&key=Tom",
    "?key=",
    "?key",
    "?key&key=2",
    "?key=1&key=2",
    "?&&key=a&&",
    "?key=a=b",
    "?=x&key=y",
    "?keys=1&key=2",
    "?k=1",
    "?key=a/b?c",
    "?key=a;b:c@d!$()*,~",
    "?ttl=30s&key=x",
    "?key=a%20b",
    "?key=a+b",
    "?key=%E2%82%AC",
    "?key=%zz",
    "?key=%",
    "?key=%C3",
    "?k%65y=decoded",
    "?key=a#frag",
    '?key="q"',
    "?key=<x>",
    "?key='x'",
    "?key=\u20ac",
    "?key=a b",
    "?key=a\tb",
    "?key=caf\u00e9&group=g",
  ])("%p", (query) => same(BASE + query));

  test("random queries over an alphabet with every special character", () => {
    const alphabet = [
      "key",
      "group",
      "=",
      "&",
      "a",
      "Z",
      "%",
      "2",
      "0",
      "+",
      " ",
      "#",
      "'",
      '"',
      "<",
      ">",
      "\u00e9",
      "/",
      "?",
      ";",
      "\x01",
      "\x7f",
    ];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let i = 0; i < 2000; i++) {
      let q = "?";
      for (let j = rand(12); j >= 0; j--) q += alphabet[rand(alphabet.length)];
      same(BASE + q);
    }
  });
});
