import { Database } from "bun:sqlite";
import type { Getter } from "../group/loader.ts";
import { sqliteSource } from "./sqlite.ts";

/** DEMO_ROWS are GeeCache's demo scores, so `curl "localhost:8001/api?key=Tom"` answers 630 at once. */
export const DEMO_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["Tom", "630"],
  ["Jack", "589"],
  ["Sam", "567"],
];

/** demoSource returns a loader over a fresh in-memory SQLite database holding DEMO_ROWS in table `table`. */
export function demoSource(table: string): Getter {
  const db = new Database(":memory:");
  const t = `"${table.replaceAll('"', '""')}"`;
  db.run(`CREATE TABLE ${t} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  const insert = db.prepare(`INSERT INTO ${t} (key, value) VALUES (?, ?)`);
  for (const [k, v] of DEMO_ROWS) insert.run(k, v);
  return sqliteSource({ db, table });
}
