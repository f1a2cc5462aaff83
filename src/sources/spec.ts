import type { Getter } from "../group/loader.ts";
import { demoSource } from "./demo.ts";
import { httpSource, httpTemplate } from "./http.ts";
import { postgresSource, postgresUrl } from "./postgres.ts";
import { redactUrl } from "./redact.ts";
import { sqliteSource } from "./sqlite.ts";

/**
 * Source is a loader with a name that is safe to log (no passwords), and a close for the sources that hold connections.
 */
export interface Source {
  getter: Getter;
  describe: string;
  close?: () => Promise<void>;
}

/**
 * SourceOptions tune the sources that use them: query (SQL sources), poolSize (PostgreSQL), timeout in ms (HTTP
 * request, PostgreSQL connect).
 */
export interface SourceOptions {
  query?: string;
  poolSize?: number;
  timeout?: number;
}

type Spec =
  | { kind: "demo" }
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string }
  | { kind: "http"; url: string };

const FORMS =
  "demo or sqlite:PATH, or a postgres://USER:PASSWORD@HOST:PORT/DATABASE or http(s)://HOST:PORT/PATH/{key} URL";

/**
 * checkSourceSpec throws a TypeError that says what to fix when `spec` is no `--source` that sourceFromSpec
 * understands; it opens nothing.
 */
export function checkSourceSpec(spec: string): void {
  parseSpec(spec);
}

/**
 * sourceFromSpec builds the loader a `--source` flag names: `demo`, `sqlite:PATH`, a postgres:// or
 * postgresql:// URL (table = group), or an http(s):// URL template with {key}; it throws when the
 * source cannot be opened. A PostgreSQL source connects lazily and must be closed.
 */
export function sourceFromSpec(spec: string, group: string, options: SourceOptions = {}): Source {
  const s = parseSpec(spec);
  switch (s.kind) {
    case "demo":
      return { getter: demoSource(group), describe: "demo (in-memory SQLite: Tom, Jack, Sam)" };
    case "sqlite":
      return { getter: sqliteSource({ db: s.path, table: group, query: options.query }), describe: `sqlite:${s.path}` };
    case "postgres": {
      const pg = postgresSource({
        url: s.url,
        table: group,
        query: options.query,
        poolSize: options.poolSize,
        connectTimeout: options.timeout,
      });
      return { getter: pg, describe: pg.describe, close: pg.close };
    }
    case "http":
      return {
        getter: httpSource({ url: s.url, timeout: options.timeout }),
        describe: `http origin ${redactUrl(httpTemplate(s.url))}`,
      };
  }
}

function parseSpec(spec: string): Spec {
  if (spec === "demo") return { kind: "demo" };
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "") throw new TypeError("sqlite: needs a path, such as sqlite:./data.db");
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:/i.test(spec)) {
    postgresUrl(spec);
    return { kind: "postgres", url: spec };
  }
  if (/^https?:/i.test(spec)) {
    httpTemplate(spec);
    return { kind: "http", url: spec };
  }
  throw new TypeError(`unknown source ${JSON.stringify(redactUrl(spec))}: use ${FORMS}`);
}
