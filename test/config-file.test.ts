// --config=FILE: TOML node settings and [[group]] tables, overridden by flags and GEECACHE_*
// variables; a bad file is one line naming the file, the line and the field. Through resolveConfig,
// then through the binary (several groups served, counted and shown).

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../src/cli/config.ts";
import { runCli, spawnNode } from "./helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "geecache-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** file writes text to a new .toml file and returns its path. */
const file = (text: string) => {
  const path = join(dir, `c${n++}.toml`);
  writeFileSync(path, text);
  return path;
};

const TWO_GROUPS = `port = 18001
cache_bytes = "16MiB"
ttl = "1m"
log_level = "warn"
peers = ["18001", "18002"]

[[group]]
name = "scores"

[[group]]
name = "names"
source = "sqlite:${join(dir, "names.db")}"
cache_bytes = "1MiB"
ttl = "30s"
hot_ttl = "1s"
`;

describe("resolveConfig with --config", () => {
  test("node settings come from the file, groups fill in from them, flags and variables win", () => {
    const path = file(TWO_GROUPS);
    const c = resolveConfig({ config: path, "log-level": "debug" }, { GEECACHE_CACHE_BYTES: "8MiB" });
    expect({ port: c.port, peers: c.peers, logLevel: c.logLevel, cacheBytes: c.cacheBytes, ttl: c.ttl }).toEqual({
      port: 18001,
      peers: ["http://127.0.0.1:18001", "http://127.0.0.1:18002"],
      logLevel: "debug", // the flag over the file
      cacheBytes: 8 * 1024 * 1024, // the variable over the file
      ttl: 60_000,
    });
    expect(c.groups).toEqual([
      {
        name: "scores",
        source: "demo",
        query: undefined,
        cacheBytes: 8 * 1024 * 1024,
        ttl: 60_000,
        stale: 0,
        hotTtl: 5000,
        admission: "tinylfu",
      },
      {
        name: "names",
        source: `sqlite:${join(dir, "names.db")}`,
        query: undefined,
        cacheBytes: 1024 * 1024,
        ttl: 30_000,
        stale: 0,
        hotTtl: 1000,
        admission: "tinylfu",
      },
    ]);
    expect(resolveConfig({}, { GEECACHE_CONFIG: path, GEECACHE_PORT: "0" }).port).toBe(0);
  });

  test("without [[group]] tables the file's group settings make the one group", () => {
    const c = resolveConfig({ config: file(`group = "users"\nttl = "5s"\n`) }, {});
    expect(c.groups.map((g) => [g.name, g.ttl])).toEqual([["users", 5000]]);
  });

  test.each([
    ["a syntax error", `port = 1\n\n[[group]]\nname = "a"\nttl = \n`, /:5: not valid TOML: /],
    ["an unknown setting", `port = 1\nbogus_thing = 3\n`, /:2: bogus_thing: is not a setting/],
    ["a bad node value", `host = "x"\nport = "abc"\n`, /:2: port: accepts a whole number from 0 to 65535, got "abc"$/],
    [
      "a bad group value",
      `[[group]]\nname = "a"\n\n[[group]]\nname = "b"\ncache_bytes = "lots"\n`,
      /:6: \[\[group\]\] cache_bytes: accepts a size/,
    ],
    [
      "a duration without a unit",
      `[[group]]\nname = "a"\nttl = 30\n`,
      /:3: \[\[group\]\] ttl: add a unit, e.g. 30s or 500ms$/,
    ],
    ["an unknown group field", `[[group]]\nname = "a"\nwhat = 1\n`, /:3: \[\[group\]\] what: is not a group field/],
    ["a group without a name", `[[group]]\nsource = "demo"\n`, /:1: \[\[group\]\] name: is missing/],
    [
      "a name used twice",
      `[[group]]\nname = "a"\n[[group]]\nname = "a"\n`,
      /:4: \[\[group\]\] name: "a" is already a group$/,
    ],
    ["a bad group source", `[[group]]\nname = "a"\nsource = "ftp://x"\n`, /:3: \[\[group\]\] source: unknown source/],
  ])("%s names the file, the line and the field", (_, text, want) => {
    const path = file(text);
    expect(() => resolveConfig({ config: path }, {})).toThrow(want);
    expect(() => resolveConfig({ config: path }, {})).toThrow(path);
  });

  test("a flag that fixes a bad file value wins; --group with [[group]] tables and --group=a,b are refused", () => {
    expect(resolveConfig({ config: file(`port = "abc"\n`), port: "0" }, {}).port).toBe(0);
    expect(() => resolveConfig({ config: file(TWO_GROUPS), group: "x" }, {})).toThrow(
      /^--group cannot be used with the \[\[group\]\] tables of /,
    );
    expect(() => resolveConfig({ group: "a,b" }, {})).toThrow(
      '--group names one group, got "a,b": for several, use --config=FILE with one [[group]] table each',
    );
  });
});

describe("geecache --config through the binary", () => {
  test("serves each group, counts each in /metrics and shows each in /status.json", async () => {
    const db = new Database(join(dir, "names.db"));
    db.run("CREATE TABLE names (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.run("INSERT INTO names VALUES ('Tom', 'Thomas')");
    db.close();
    await using node = await spawnNode([`--config=${file(TWO_GROUPS)}`, "--port=0", "--peers=", "--log-level=info"]);
    const get = async (q: string) => {
      const res = await fetch(`${node.url}/api?${q}`);
      return [res.status, (await res.text()).trim()];
    };
    expect([
      await get("key=Tom"),
      await get("key=Tom&group=scores"),
      await get("key=Tom&group=names"),
      await get("key=Jack&group=names"),
      await get("key=Tom&group=nope"),
    ]).toEqual([
      [200, "630"],
      [200, "630"],
      [200, "Thomas"],
      [404, expect.stringContaining("Jack")],
      [404, "no such group: nope"],
    ]);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics.match(/^geecache_gets_total\{group="[a-z]+"\} \d+$/gm)).toEqual([
      'geecache_gets_total{group="scores"} 2',
      'geecache_gets_total{group="names"} 2',
    ]);
    const status = (await (await fetch(`${node.url}/status.json`)).json()) as {
      groups: Array<{ name: string; gets: number; bytes: { budget: number } }>;
    };
    expect(status.groups.map((g) => [g.name, g.gets, g.bytes.budget])).toEqual([
      ["scores", 2, 16 * 1024 * 1024],
      ["names", 2, 1024 * 1024],
    ]);
    expect(node.stdout.text).toContain("groups scores (16 MiB, demo");
  });

  test("a bad file: exit 2 with one line naming the file, line and field", async () => {
    const path = file(`port = 1\n[[group]]\nname = "a"\ncache_bytes = "lots"\n`);
    const r = await runCli([`--config=${path}`]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: `geecache: ${path}:4: [[group]] cache_bytes: accepts a size such as 1048576, 512KiB, 64MiB or 1GiB, got "lots"\n`,
    });
  });
});
