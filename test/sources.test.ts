import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GeeCacheError } from "../src/core/errors.ts";
import type { Getter } from "../src/group/loader.ts";
import { DEMO_ROWS, demoSource } from "../src/sources/demo.ts";
import { sourceFromSpec } from "../src/sources/spec.ts";
import { sqliteSource, valueBytes } from "../src/sources/sqlite.ts";

let dir: string;
let path: string;
let writer: Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "geecache-sources-"));
  path = join(dir, "data.db");
  writer = new Database(path, { create: true });
  // No declared type on value, so every row keeps the storage class it was written with.
  writer.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value)");
  const insert = writer.prepare("INSERT INTO scores (key, value) VALUES (?, ?)");
  for (const [k, v] of [
    ["Tom", "630"],
    ["int", 630],
    ["negative", -42],
    ["real", 1.5],
    ["blob", new Uint8Array([0, 1, 255])],
    ["empty", ""],
    ["null", null],
    ["Zoë 🙂", "unicode"],
  ] as const) {
    insert.run(k, v);
  }
  writer.run("CREATE TABLE people (name TEXT, score INTEGER, nick TEXT)");
  writer.run("INSERT INTO people VALUES ('Ann', 700, 'annie'), ('Bob', 10, NULL)");
  writer.run(`CREATE TABLE "we""ird" (key TEXT, value TEXT)`);
  writer.run(`INSERT INTO "we""ird" VALUES ('k', 'quoted')`);
});

afterAll(() => {
  writer.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = { group: "scores" };
/** load calls a getter and hands back what it returned. */
const load = async (getter: Getter, key: string) => await getter(key, ctx);

describe("sqliteSource over a real file", () => {
  test.each<{ key: string; want: string | Uint8Array | undefined }>([
    { key: "Tom", want: "630" },
    { key: "int", want: "630" },
    { key: "negative", want: "-42" },
    { key: "real", want: "1.5" },
    { key: "blob", want: new Uint8Array([0, 1, 255]) },
    { key: "empty", want: "" },
    { key: "Zoë 🙂", want: "unicode" },
    { key: "null", want: undefined },
    { key: "nobody", want: undefined },
    { key: "tom", want: undefined }, // keys are exact
  ])("$key", async ({ key, want }) => {
    expect(await load(sqliteSource({ db: path, table: "scores" }), key)).toEqual(want);
  });

  test("a custom query takes the key as its parameter and answers with its first column", async () => {
    const getter = sqliteSource({ db: path, query: "SELECT nick, score FROM people WHERE name = ?" });
    expect({ Ann: await load(getter, "Ann"), Bob: await load(getter, "Bob"), Cid: await load(getter, "Cid") }).toEqual({
      Ann: "annie",
      Bob: undefined,
      Cid: undefined,
    });
  });

  test("a table name is quoted", async () => {
    expect(await load(sqliteSource({ db: path, table: 'we"ird' }), "k")).toBe("quoted");
  });

  test("rows written after the source opened are seen (the source does not cache)", async () => {
    const getter = sqliteSource({ db: path, table: "scores" });
    const before = await load(getter, "late");
    writer.run("INSERT INTO scores (key, value) VALUES ('late', 'arrived')");
    expect({ before, after: await load(getter, "late") }).toEqual({ before: undefined, after: "arrived" });
  });

  test("an open Database can be passed in", async () => {
    const db = new Database(":memory:");
    try {
      db.run("CREATE TABLE t (key TEXT, value)");
      db.run("INSERT INTO t VALUES ('a', 1)");
      expect(await load(sqliteSource({ db, table: "t" }), "a")).toBe("1");
    } finally {
      db.close();
    }
  });

  test("a missing file is an error at construction", () => {
    const missing = join(dir, "missing.db");
    let err: unknown;
    try {
      sqliteSource({ db: missing, table: "scores" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GeeCacheError);
    expect({ code: (err as GeeCacheError).code, message: (err as GeeCacheError).message }).toEqual({
      code: "INVALID_ARGUMENT",
      message: `sqlite source: no such file: ${missing}`,
    });
  });

  test.each<{ name: string; options: { table?: string; query?: string }; mentions: string }>([
    { name: "a missing table", options: { table: "nope" }, mentions: "no such table: nope" },
    { name: "a bad query", options: { query: "SELEC value FROM scores WHERE key = ?" }, mentions: "SELEC" },
    {
      name: "a query naming a missing column",
      options: { query: "SELECT missing FROM scores WHERE key = ?" },
      mentions: "no such column: missing",
    },
  ])("$name is an error at construction", ({ options, mentions }) => {
    let err: unknown;
    try {
      sqliteSource({ db: path, ...options });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GeeCacheError);
    expect({ code: (err as GeeCacheError).code, mentions: (err as GeeCacheError).message.includes(mentions) }).toEqual({
      code: "INVALID_ARGUMENT",
      mentions: true,
    });
  });

  test("neither a table nor a query is a TypeError", () => {
    expect(() => sqliteSource({ db: path })).toThrow(TypeError);
  });
});

describe("valueBytes", () => {
  test.each<{ name: string; v: unknown; want: string | Uint8Array | undefined }>([
    { name: "null", v: null, want: undefined },
    { name: "undefined", v: undefined, want: undefined },
    { name: "text", v: "x", want: "x" },
    { name: "a number", v: 630, want: "630" },
    { name: "a bigint", v: 9007199254740993n, want: "9007199254740993" },
    { name: "true", v: true, want: "1" },
    { name: "false", v: false, want: "0" },
    { name: "a date", v: new Date(Date.UTC(2030, 0, 1)), want: "2030-01-01T00:00:00.000Z" },
    { name: "bytes", v: new Uint8Array([7]), want: new Uint8Array([7]) },
  ])("$name", ({ v, want }) => {
    expect(valueBytes(v)).toEqual(want);
  });
});

describe("demoSource", () => {
  test("has GeeCache's three scores and nothing else", async () => {
    const getter = demoSource("scores");
    const got = Object.fromEntries(
      await Promise.all(["Tom", "Jack", "Sam", "Kate"].map(async (k) => [k, await load(getter, k)])),
    );
    expect(got).toEqual({ Tom: "630", Jack: "589", Sam: "567", Kate: undefined });
    expect(DEMO_ROWS).toEqual([
      ["Tom", "630"],
      ["Jack", "589"],
      ["Sam", "567"],
    ]);
  });

  test("any table name works", async () => {
    expect(await load(demoSource('odd "name"'), "Tom")).toBe("630");
  });
});

describe("sourceFromSpec", () => {
  test("demo", async () => {
    const source = sourceFromSpec("demo", "scores");
    expect({ describe: source.describe, Tom: await load(source.getter, "Tom") }).toEqual({
      describe: "demo (in-memory SQLite: Tom, Jack, Sam)",
      Tom: "630",
    });
  });

  test("sqlite:PATH reads the table named after the group", async () => {
    const source = sourceFromSpec(`sqlite:${path}`, "scores");
    expect({ describe: source.describe, int: await load(source.getter, "int") }).toEqual({
      describe: `sqlite:${path}`,
      int: "630",
    });
  });

  test("sqlite:PATH with a query", async () => {
    const source = sourceFromSpec(`sqlite:${path}`, "people", { query: "SELECT score FROM people WHERE name = ?" });
    expect(await load(source.getter, "Ann")).toBe("700");
  });

  test("sqlite:PATH of a missing file throws", () => {
    expect(() => sourceFromSpec(`sqlite:${join(dir, "missing.db")}`, "scores")).toThrow(/no such file/);
  });

  test.each(["nope", "", "sqlite"])("%p is an unknown source", (spec) => {
    expect(() => sourceFromSpec(spec, "scores")).toThrow(
      `unknown source ${JSON.stringify(spec)}: use demo, sqlite:PATH, a postgres://`,
    );
  });

  test("a postgres:// URL is a source, checked without connecting", () => {
    expect(sourceFromSpec("postgres://u:pw@127.0.0.1:1/db", "scores").describe).not.toContain("pw");
  });
});
