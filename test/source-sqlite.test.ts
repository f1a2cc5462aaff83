// The source conformance suite (test/source.cases.ts) against sqliteSource over a real SQLite file.
// demoSource is sqliteSource over an in-memory database of fixed rows, so this run covers it too.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteSource } from "../src/sources/sqlite.ts";
import { sourceCases } from "./source.cases.ts";

const IN_PROCESS = "a SQLite read is a synchronous call in this process: nothing can be left waiting";

sourceCases({
  name: "sqlite",
  async open(rows) {
    const dir = mkdtempSync(join(tmpdir(), "geecache-source-"));
    const path = join(dir, "scores.db");
    const db = new Database(path, { create: true });
    db.run("CREATE TABLE scores (key TEXT PRIMARY KEY, value BLOB NOT NULL)");
    const insert = db.prepare("INSERT INTO scores (key, value) VALUES (?, ?)");
    db.transaction(() => {
      for (const [k, v] of rows) insert.run(k, v);
    })();
    db.run("CREATE TABLE gone (key TEXT PRIMARY KEY, value BLOB)");
    const getter = sqliteSource({ db: path, table: "scores" });
    const broken = sqliteSource({ db: path, table: "gone" });
    db.run("DROP TABLE gone"); // dropped under the source, after its query was checked: every read fails
    db.close();
    return { getter, broken, [Symbol.asyncDispose]: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  skip: { timeout: `${IN_PROCESS}, so there is no timeout`, abort: `${IN_PROCESS}, so no load is left to abort` },
});
