import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { GeeCacheError } from "../core/errors.ts";
import type { Getter } from "../group/loader.ts";
import { valueBytes } from "./value.ts";

/** valueBytes lives in value.ts (PostgreSQL shares it); re-exported here for existing importers. */
export { valueBytes };

/** SqliteSourceOptions name the database and how to read one value. */
export interface SqliteSourceOptions {
  /** path of a SQLite file, or an open Database. */
  db: string | Database;
  /** table read by the default query `SELECT value FROM "<table>" WHERE key = ?`. */
  table?: string;
  /** query overrides the default; it takes the key as its one parameter and returns the value in its first column. */
  query?: string;
}

/**
 * sqliteSource returns a loader that reads values from SQLite. The file and the query are checked
 * at once, so a missing file or table is a start-up error, not a failure on the first miss.
 * No row means "not found"; numbers come back as their decimal text, BLOBs as bytes.
 */
export function sqliteSource(options: SqliteSourceOptions): Getter {
  const { table } = options;
  if (!options.query && !table) throw new TypeError("sqliteSource needs a table or a query");
  let db: Database;
  if (typeof options.db === "string") {
    if (!existsSync(options.db)) {
      throw new GeeCacheError("INVALID_ARGUMENT", `sqlite source: no such file: ${options.db}`);
    }
    try {
      db = new Database(options.db, { readonly: true });
    } catch (err) {
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `sqlite source: cannot open ${options.db}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  } else {
    db = options.db;
  }
  const sql = options.query ?? `SELECT value FROM "${table!.replaceAll('"', '""')}" WHERE key = ?`;
  let stmt: ReturnType<Database["prepare"]>;
  try {
    stmt = db.prepare(sql);
  } catch (err) {
    throw new GeeCacheError("INVALID_ARGUMENT", `sqlite source: ${(err as Error).message} (query: ${sql})`, {
      cause: err,
    });
  }
  return (key) => {
    const row = stmt.values(key)[0];
    if (row === undefined) return undefined;
    return valueBytes(row[0]);
  };
}
