import { SQL } from "bun";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { plainError } from "../core/plain-error.ts";
import type { Getter } from "../group/loader.ts";
import { redactUrl, scrubSecret } from "./redact.ts";
import { valueBytes } from "./value.ts";

/** DEFAULT_POOL_SIZE is how many connections a PostgreSQL source opens at most. */
export const DEFAULT_POOL_SIZE = 10;
/** DEFAULT_CONNECT_TIMEOUT is how long (ms) a PostgreSQL source waits for a new connection. */
export const DEFAULT_CONNECT_TIMEOUT = 5000;
/** MAX_POOL_SIZE bounds poolSize; a cache node needs few connections, a typo should not open thousands. */
const MAX_POOL_SIZE = 1000;

/** PostgresSourceOptions name the database and how to read one value. */
export interface PostgresSourceOptions {
  /**
   * url is postgres://user:password@host:port/database (postgresql:// too); its query string is passed on, e.g.
   * ?sslmode=require.
   */
  url: string;
  /** table read by the default query `SELECT value FROM "<table>" WHERE key = $1`. */
  table?: string;
  /** query overrides the default; it takes the key as $1 and returns the value in its first column. */
  query?: string;
  /** poolSize is the most connections open at once (default DEFAULT_POOL_SIZE). */
  poolSize?: number;
  /** connectTimeout is how long to wait for a connection, in ms (default DEFAULT_CONNECT_TIMEOUT). */
  connectTimeout?: number;
}

/**
 * PostgresSource is a loader backed by a connection pool; `describe` names it without the password, `close` ends the
 * pool.
 */
export type PostgresSource = Getter & { readonly describe: string; close(): Promise<void> };

/**
 * postgresSource returns a loader that reads values from PostgreSQL through Bun.SQL. It connects
 * lazily, so a node starts while the database is down; a miss then fails with LOAD_FAILED (503)
 * and the pool reconnects by itself once the server is back. No row, or NULL, is "not found".
 * bytea comes back as bytes, text as is, and every number (int, numeric, float, bigint) as its decimal text.
 */
export function postgresSource(options: PostgresSourceOptions): PostgresSource {
  const url = postgresUrl(options.url);
  const { table } = options;
  if (!options.query && !table) throw new TypeError("postgresSource needs a table or a query");
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
    throw new TypeError(`postgresSource: poolSize must be a whole number from 1 to ${MAX_POOL_SIZE}, got ${poolSize}`);
  }
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  if (!Number.isFinite(connectTimeout) || connectTimeout <= 0) {
    throw new TypeError(`postgresSource: connectTimeout must be a number of ms above 0, got ${connectTimeout}`);
  }

  const describe = redactUrl(options.url);
  const text = options.query ?? `SELECT value FROM "${table!.replaceAll('"', '""')}" WHERE key = $1`;
  const newPool = () =>
    new SQL({
      url: options.url,
      // Bun lets PGDATABASE override the URL's database; the URL is what the user asked for.
      database: decodeURIComponent(url.pathname.slice(1)),
      max: poolSize,
      connectionTimeout: connectTimeout / 1000,
    });
  let sql = newPool();
  let closed = false;
  const password = url.password;

  const fail = (key: string, err: unknown): GeeCacheError => {
    const why = isUnreachable(err)
      ? `cannot reach the database: ${plainError(err, { timeout: connectTimeout })}`
      : `${errorMessage(err)} (query: ${text})`;
    const tags = codes(err).join(" ");
    const message = `postgres ${describe}: loading ${JSON.stringify(key)} failed: ${why}${tags ? ` [${tags}]` : ""}`;
    return new GeeCacheError("LOAD_FAILED", scrubSecret(message, password), { cause: err });
  };

  const getter: Getter = async (key) => {
    if (closed) throw new GeeCacheError("LOAD_FAILED", `postgres ${describe}: the source is closed`);
    let rows: unknown[][];
    const pool = sql;
    try {
      rows = await pool.unsafe(text, [key]).values();
    } catch (err) {
      if (!isDropped(err) || closed) throw fail(key, err);
      // The server dropped a pooled connection ("terminating connection due to administrator
      // command"): it restarted or failed over and dropped the idle ones too. Bun would find them
      // one failed query at a time, so swap in a fresh pool (once, however many loads saw it) and retry.
      if (sql === pool) {
        sql = newPool();
        void pool.close().catch(() => {}); // after the queries still running on it
      }
      try {
        rows = await sql.unsafe(text, [key]).values();
      } catch (again) {
        throw fail(key, again);
      }
    }
    const row = rows[0];
    return row === undefined ? undefined : valueBytes(row[0]);
  };
  const close = async () => {
    closed = true;
    await sql.close();
  };
  return Object.assign(getter, { describe, close });
}

/**
 * postgresUrl parses a postgres:// or postgresql:// URL and checks it names a host and a database; the TypeError hides
 * the password.
 */
export function postgresUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `${JSON.stringify(redactUrl(text))} is not a URL; use postgres://user:password@host:5432/database`,
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new TypeError(`${JSON.stringify(redactUrl(text))} is not a postgres:// or postgresql:// URL`);
  }
  if (url.hostname === "")
    throw new TypeError(
      `${JSON.stringify(redactUrl(text))} names no host; use postgres://user:password@host:5432/database`,
    );
  if (url.pathname.length < 2 || url.pathname.indexOf("/", 1) >= 0) {
    throw new TypeError(
      `${JSON.stringify(redactUrl(text))} names no database; add it as the path: postgres://user:password@host:5432/database`,
    );
  }
  return url;
}

// A pooled connection that the server dropped (shut down, restarted, or Bun's idle and lifetime
// limits): one retry gets a fresh connection. 57P01 and 57P02 are the SQLSTATEs of a shutdown.
const DROPPED = new Set([
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
  "57P01",
  "57P02",
]);

function codes(err: unknown): string[] {
  const e = err as { code?: unknown; errno?: unknown } | null;
  if (typeof e !== "object" || e === null) return [];
  return [e.errno, e.code].filter((c): c is string => typeof c === "string" && c !== "");
}

function isDropped(err: unknown): boolean {
  return codes(err).some((c) => DROPPED.has(c));
}

/**
 * isUnreachable tells a failure to talk to the server (refused, timed out, dropped, starting up) from an error in the
 * query.
 */
function isUnreachable(err: unknown): boolean {
  return isDropped(err) || codes(err).some((c) => c.startsWith("ERR_POSTGRES_CONNECTION_") || c === "57P03");
}
