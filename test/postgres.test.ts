// The PostgreSQL source against a real server: `source .ci/setup.d/postgres.sh` (CI does) or
// `eval "$(scripts/pg-dev.sh)"` exports GEECACHE_TEST_PG_URL, and GEECACHE_TEST_PG_CTL to stop and start it.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { GeeCacheError, httpStatus } from "../src/core/errors.ts";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import {
  type PostgresSource,
  type PostgresSourceOptions,
  postgresSource,
  postgresUrl,
} from "../src/sources/postgres.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

const PG_URL = process.env.GEECACHE_TEST_PG_URL;
const PG_CTL = process.env.GEECACHE_TEST_PG_CTL;
const REQUEST_TIMEOUT_MS = 5000;
const STAMPEDE = 500;

if (!PG_URL) {
  console.warn(
    "test/postgres.test.ts: GEECACHE_TEST_PG_URL is not set, so the PostgreSQL tests skip. Start a throwaway server with " +
      '`source .ci/setup.d/postgres.sh` (in bash, as CI does) or `eval "$(scripts/pg-dev.sh)"`, then run bun test again.',
  );
}

describe.skipIf(!PG_URL)("postgresSource", () => {
  const url = new URL(PG_URL ?? "postgres://x@localhost/x");
  /** REDACTED is how every message must name the database. */
  const REDACTED = `postgres://${url.username}:***@${url.host}${url.pathname}`;
  let admin: SQL;
  const tables: string[] = [];
  const sources: PostgresSource[] = [];

  beforeAll(() => {
    admin = new SQL({ url: PG_URL!, max: 2 });
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    for (const t of tables)
      await admin.unsafe(`DROP TABLE IF EXISTS "${t}" CASCADE; DROP TABLE IF EXISTS "${t}_calls" CASCADE`).simple();
    await admin.close();
  });

  /** table creates a table of its own for one test: `key text primary key, value <type>`, filled with rows. */
  async function table(type: string, rows: Record<string, string> = {}): Promise<string> {
    const name = `t_${crypto.randomUUID().replaceAll("-", "")}`;
    tables.push(name);
    await admin.unsafe(`CREATE TABLE "${name}" (key text PRIMARY KEY, value ${type})`);
    for (const [k, literal] of Object.entries(rows))
      await admin.unsafe(`INSERT INTO "${name}" (key, value) VALUES ($1, ${literal})`, [k]);
    return name;
  }

  function open(options: Partial<PostgresSourceOptions>): PostgresSource {
    const source = postgresSource({ url: PG_URL!, ...options });
    sources.push(source);
    return source;
  }

  async function loadError(getter: Getter, key: string): Promise<GeeCacheError> {
    try {
      await getter(key, { group: "pg" });
    } catch (err) {
      expect(err).toBeInstanceOf(GeeCacheError);
      return err as GeeCacheError;
    }
    throw new Error(`loading ${key} did not fail`);
  }

  test.each<[string, string, unknown]>([
    ["text", "'Tom'", "Tom"],
    ["text", "'ключ 🎉'", "ключ 🎉"],
    ["bytea", "'\\x00ff10'::bytea", new Uint8Array([0, 255, 16])],
    ["integer", "630", "630"],
    ["smallint", "-7", "-7"],
    ["numeric", "630.50", "630.50"],
    ["numeric(30,0)", "123456789012345678901234567890", "123456789012345678901234567890"],
    ["bigint", "9223372036854775807", "9223372036854775807"],
    ["double precision", "1.5", "1.5"],
    ["boolean", "true", "1"],
    ["text", "NULL", undefined], // NULL is "not found", as no row is
  ])("a %s column (%s) reads as %p", async (type, literal, want) => {
    const t = await table(type, { k: literal });
    const got: unknown = await open({ table: t })("k", { group: "pg" });
    expect(got instanceof Uint8Array ? Array.from(got) : got).toEqual(
      want instanceof Uint8Array ? Array.from(want) : want,
    );
  });

  test("no row is not found: the getter answers undefined and the group never caches it", async () => {
    const t = await table("text", { Tom: "'630'" });
    const pg = open({ table: t });
    let calls = 0;
    const group = new Group({ name: "pg", getter: (k, ctx) => (calls++, pg(k, ctx)) });
    const misses = [];
    for (let i = 0; i < 2; i++)
      misses.push(await group.getEntry("nobody").catch((err: GeeCacheError) => [err.code, httpStatus(err)]));
    expect({ direct: await pg("nobody", { group: "pg" }), misses, calls }).toEqual({
      direct: undefined,
      misses: [
        ["NOT_FOUND", 404],
        ["NOT_FOUND", 404],
      ],
      calls: 2,
    });
  });

  test("a custom query reads any column with the key as $1", async () => {
    const t = await table("text", { Tom: "'630'" });
    const pg = open({ query: `SELECT upper(value || key) FROM "${t}" WHERE key = $1` });
    expect(await pg("Tom", { group: "pg" })).toBe("630TOM");
  });

  test("a bad query is LOAD_FAILED (503) naming the database without its password", async () => {
    const pg = open({ query: "SELECT value FROM no_such_table_here WHERE key = $1" });
    const err = await loadError(pg, "Tom");
    expect({ code: err.code, status: httpStatus(err), message: err.message }).toEqual({
      code: "LOAD_FAILED",
      status: 503,
      message: `postgres ${REDACTED}: loading "Tom" failed: relation "no_such_table_here" does not exist (query: SELECT value FROM no_such_table_here WHERE key = $1) [42P01 ERR_POSTGRES_SERVER_ERROR]`,
    });
    expect(err.cause).toBeDefined();
  });

  test("a wrong password is LOAD_FAILED and shows neither password", async () => {
    const wrong = new URL(PG_URL!);
    wrong.password = "not-the-password";
    const pg = postgresSource({ url: wrong.href, table: "x" });
    sources.push(pg);
    const err = await loadError(pg, "Tom");
    expect(err.code).toBe("LOAD_FAILED");
    expect(err.message).toContain(`postgres ${REDACTED}: loading "Tom" failed`);
    expect(err.message).toContain("28P01");
    expect(err.message).not.toContain("not-the-password");
    expect(err.message).not.toContain(url.password);
  });

  test("an unreachable server is LOAD_FAILED within the connect timeout", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); // accepts, never answers
    try {
      const pg = postgresSource({
        url: `postgres://u:s3cret@127.0.0.1:${listener.port}/db`,
        table: "x",
        connectTimeout: 200,
      });
      sources.push(pg);
      const started = performance.now();
      const err = await loadError(pg, "Tom");
      expect({ code: err.code, message: err.message }).toEqual({
        code: "LOAD_FAILED",
        message: expect.stringMatching(
          new RegExp(
            `^postgres postgres://u:\\*\\*\\*@127\\.0\\.0\\.1:${listener.port}/db: loading "Tom" failed: cannot reach the database: .*\\[ERR_POSTGRES_CONNECTION_TIMEOUT\\]$`,
          ),
        ),
      });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      listener.stop(true);
    }
  });

  test.each([
    ["postgres://db", /names no database/],
    ["postgres://u:s3cret@/db", /names no host|is not a URL/],
    ["postgres://u:s3cret@host/db/extra", /names no database/],
    ["mysql://u:s3cret@host/db", /not a postgres/],
    ["postgres://u:s3cret@host:99999/db", /is not a URL/],
  ])("the URL %p is refused at once, without its password", (bad, message) => {
    expect(() => postgresUrl(bad)).toThrow(message);
    expect(() => postgresSource({ url: bad, table: "t" })).toThrow(TypeError);
    try {
      postgresUrl(bad);
    } catch (err) {
      expect((err as Error).message).not.toContain("s3cret");
    }
  });

  test.each<[Partial<PostgresSourceOptions>, RegExp]>([
    [{}, /needs a table or a query/],
    [{ table: "t", poolSize: 0 }, /poolSize/],
    [{ table: "t", poolSize: 1.5 }, /poolSize/],
    [{ table: "t", connectTimeout: 0 }, /connectTimeout/],
  ])("options %p are refused", (options, message) => {
    expect(() => postgresSource({ url: PG_URL!, ...options })).toThrow(message);
  });

  test("after close a load is LOAD_FAILED", async () => {
    const t = await table("text", { Tom: "'630'" });
    const pg = postgresSource({ url: PG_URL!, table: t });
    const before = await pg("Tom", { group: "pg" });
    await pg.close();
    const err = await loadError(pg, "Tom");
    expect({ before, code: err.code, message: err.message }).toEqual({
      before: "630",
      code: "LOAD_FAILED",
      message: `postgres ${REDACTED}: the source is closed`,
    });
  });

  test(`a stampede of ${STAMPEDE} misses for one key runs the query once`, async () => {
    const t = await table("text", { hot: "'v'" });
    // The query calls a function that counts its calls in a table and sleeps, so the gets overlap it.
    await admin.unsafe(`CREATE TABLE "${t}_calls" (n int NOT NULL); INSERT INTO "${t}_calls" VALUES (0)`).simple();
    await admin.unsafe(
      `CREATE FUNCTION "${t}_load"(k text) RETURNS text LANGUAGE plpgsql AS $$
       BEGIN UPDATE "${t}_calls" SET n = n + 1; PERFORM pg_sleep(0.05); RETURN (SELECT value FROM "${t}" WHERE key = k); END $$`,
    );
    const calls = async () => Number((await admin.unsafe(`SELECT n FROM "${t}_calls"`).values())[0]![0]);
    const pg = open({ query: `SELECT "${t}_load"($1)` });
    const group = new Group({ name: "pg", getter: pg });
    const values = await Promise.all(Array.from({ length: STAMPEDE }, () => group.get("hot")));
    const afterStampede = await calls();
    // Without the group, the same getter runs the query every time: the counter does count.
    await Promise.all([pg("hot", { group: "pg" }), pg("hot", { group: "pg" }), pg("hot", { group: "pg" })]);
    expect({
      distinct: [...new Set(values.map((v) => v.toString()))],
      afterStampede,
      afterThreeDirect: await calls(),
      stats: { gets: group.stats().gets, localLoads: group.stats().localLoads },
    }).toEqual({ distinct: ["v"], afterStampede: 1, afterThreeDirect: 4, stats: { gets: STAMPEDE, localLoads: 1 } });
  });

  test("the compiled binary serves a table through /api and closes its pool on SIGTERM", async () => {
    requireBinary();
    const t = await table("text", { Tom: "'630'", "a b/c": "'spaced'" });
    const node = await spawnNode([
      "--port=0",
      `--source=${PG_URL}`,
      `--group=${t}`,
      "--pool-size=2",
      "--source-timeout=2s",
    ]);
    let code: number | null;
    let got: Record<string, { status: number; body: string }>;
    try {
      const get = async (key: string) => {
        const res = await fetch(`${node.url}/api?key=${encodeURIComponent(key)}`, {
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        return { status: res.status, body: await res.text() };
      };
      got = { Tom: await get("Tom"), spaced: await get("a b/c"), missing: await get("nobody") };
    } finally {
      code = await node.stop();
    }
    expect({
      got,
      code,
      logsUrl: node.stdout.text.includes(`source ${REDACTED}`),
      leaks: (node.stdout.text + node.stderr.text).includes(url.password),
    }).toEqual({
      got: {
        Tom: { status: 200, body: "630" },
        spaced: { status: 200, body: "spaced" },
        missing: { status: 404, body: expect.stringContaining("not found") },
      },
      code: 0,
      logsUrl: true,
      leaks: false,
    });
  });

  test("the compiled binary answers 503 without the password when the query fails", async () => {
    requireBinary();
    await using node = await spawnNode([
      "--port=0",
      `--source=${PG_URL}`,
      "--query=SELECT value FROM no_such_table_here WHERE key = $1",
    ]);
    const res = await fetch(`${node.url}/api?key=Tom`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await res.text();
    expect({ status: res.status, names: body.includes(REDACTED), leaks: body.includes(url.password) }).toEqual({
      status: 503,
      names: true,
      leaks: false,
    });
  });

  // Last: it stops the shared server. GEECACHE_TEST_PG_CTL comes from the same setup script.
  test.skipIf(!PG_CTL)(
    "while the server is down cached keys are served and misses are 503; it recovers by itself",
    async () => {
      const t = await table("text", { Tom: "'630'", Sam: "'567'" });
      const pg = open({ table: t, poolSize: 4 });
      const group = new Group({ name: "pg", getter: pg });
      // Warm four pooled connections, so the restart leaves dead ones behind for the source to replace.
      await Promise.all(["w1", "w2", "w3", "w4"].map((k) => pg(k, { group: "pg" })));
      const tom = (await group.getEntry("Tom")).from;
      let down: { tom: unknown; sam: unknown };
      let up: unknown[];
      try {
        expect(pgCtl("stop", "-m", "fast")).toBe(0);
        const sam = await group
          .getEntry("Sam")
          .catch((err: GeeCacheError) => ({ code: err.code, status: httpStatus(err), message: err.message }));
        down = { tom: (await group.getEntry("Tom")).from, sam };
      } finally {
        expect(pgCtl("start")).toBe(0);
      }
      // The first miss after the restart already succeeds: a dropped pooled connection is retried on a fresh one.
      up = [];
      for (const key of ["Sam", "w5", "w6", "w7", "w8"])
        up.push(
          await group.getEntry(key).then(
            (r) => r.value.toString(),
            (err: GeeCacheError) => err.code,
          ),
        );
      await admin.close();
      admin = new SQL({ url: PG_URL!, max: 2 }); // the old pool's connections died with the server
      expect({ tom, down, up }).toEqual({
        tom: "loader",
        down: {
          tom: "main",
          sam: {
            code: "LOAD_FAILED",
            status: 503,
            message: expect.stringMatching(
              new RegExp(
                `^postgres ${REDACTED.replaceAll("*", "\\*")}: loading "Sam" failed: cannot reach the database: .*\\[ERR_POSTGRES_CONNECTION_REFUSED\\]$`,
              ),
            ),
          },
        },
        up: ["567", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"],
      });
      expect(JSON.stringify(down!)).not.toContain(url.password);
    },
  );
});

/**
 * pgCtl runs the setup script's pg_ctl wrapper (stop waits for the shutdown, start for connections) and returns its
 * exit code.
 */
function pgCtl(...args: string[]): number | null {
  return Bun.spawnSync([PG_CTL!, ...args], { stdout: "ignore", stderr: "inherit", timeout: 60_000 }).exitCode;
}
