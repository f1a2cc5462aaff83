// The source conformance suite (test/source.cases.ts) against postgresSource and a real server:
// `source .ci/setup.d/postgres.sh` (CI does) or `eval "$(scripts/pg-dev.sh)"` exports
// GEECACHE_TEST_PG_URL; without it the cases skip. Each case gets a table of its own (value bytea);
// the broken source reads a table that does not exist. The stalled one connects to a socket that
// takes the connection and never answers, which its connect timeout bounds: a query that never
// ends on a live server has no bound in postgresSource.
import { test } from "bun:test";
import { SQL } from "bun";
import { postgresSource } from "../src/sources/postgres.ts";
import { sourceCases } from "./source.cases.ts";

const PG_URL = process.env.GEECACHE_TEST_PG_URL;

if (!PG_URL) {
  test.skip('source postgres: GEECACHE_TEST_PG_URL is not set (eval "$(scripts/pg-dev.sh)"), so the cases skip', () => {});
} else {
  sourceCases({
    name: "postgres",
    async open(rows, timeout) {
      const admin = new SQL({ url: PG_URL, max: 1 });
      const table = `t_${crypto.randomUUID().replaceAll("-", "")}`;
      await admin.unsafe(`CREATE TABLE "${table}" (key text PRIMARY KEY, value bytea NOT NULL)`);
      for (const [k, v] of rows) await admin.unsafe(`INSERT INTO "${table}" (key, value) VALUES ($1, $2)`, [k, v]);
      let connections = 0;
      const silent = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: { open: () => void connections++, data: () => {} },
      });
      const stalledUrl = new URL(PG_URL);
      stalledUrl.host = `127.0.0.1:${silent.port}`;
      const sources = [
        postgresSource({ url: PG_URL, table }),
        postgresSource({ url: PG_URL, table: `${table}_gone` }),
        postgresSource({ url: stalledUrl.href, table, poolSize: 1, connectTimeout: timeout }),
      ] as const;
      return {
        getter: sources[0],
        broken: sources[1],
        stalled: { getter: sources[2], asked: () => connections },
        async [Symbol.asyncDispose]() {
          await Promise.all(sources.map((s) => s.close()));
          silent.stop(true);
          await admin.unsafe(`DROP TABLE "${table}"`);
          await admin.close();
        },
      };
    },
  });
}
