import { errorMessage } from "../core/errors.ts";
import { duration, int, type Setting, settingError, text } from "../core/settings.ts";
import { formatDuration } from "../core/units.ts";
import type { Getter } from "../group/loader.ts";
import { demoSource } from "./demo.ts";
import { DEFAULT_HTTP_TIMEOUT, httpSource, httpTemplate } from "./http.ts";
import { DEFAULT_POOL_SIZE, postgresSource, postgresUrl } from "./postgres.ts";
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

/**
 * SourceModule is one kind of `--source`: the form it accepts, a check that opens nothing, and
 * open, which builds the loader of one group. A new kind of source is a module and a line in
 * SOURCE_MODULES.
 */
export interface SourceModule {
  /** form is how the spec looks, for --help and errors: "sqlite:PATH". */
  readonly form: string;
  accepts(spec: string): boolean;
  /** check throws a TypeError that says what to fix when spec is not a source this module can open. */
  check?(spec: string): void;
  open(spec: string, group: string, options: SourceOptions): Source;
  /** settings are the module's own flags (e.g. --pool-size). */
  readonly settings?: readonly Setting[];
}

const demo: SourceModule = {
  form: "demo",
  accepts: (spec) => spec === "demo",
  open: (_, group) => ({ getter: demoSource(group), describe: "demo (in-memory SQLite: Tom, Jack, Sam)" }),
};

const sqlite: SourceModule = {
  form: "sqlite:PATH",
  accepts: (spec) => spec.startsWith("sqlite:"),
  check(spec) {
    if (spec === "sqlite:") throw new TypeError("sqlite: needs a path, such as sqlite:./data.db");
  },
  open(spec, group, options) {
    const db = spec.slice("sqlite:".length);
    return { getter: sqliteSource({ db, table: group, query: options.query }), describe: `sqlite:${db}` };
  },
};

const postgres: SourceModule = {
  form: "a postgres://USER:PASSWORD@HOST:PORT/DATABASE",
  accepts: (spec) => /^postgres(ql)?:/i.test(spec),
  check: (spec) => void postgresUrl(spec),
  open(url, table, options) {
    const pg = postgresSource({
      url,
      table,
      query: options.query,
      poolSize: options.poolSize,
      connectTimeout: options.timeout,
    });
    return { getter: pg, describe: pg.describe, close: pg.close };
  },
  settings: [
    {
      name: "pool-size",
      help: "Most connections a postgres:// source keeps open",
      fallbackHelp: String(DEFAULT_POOL_SIZE),
      hint: String(DEFAULT_POOL_SIZE),
      parse: int(1, 1000),
    },
  ],
};

const http: SourceModule = {
  form: "http(s)://HOST:PORT/PATH/{key}",
  accepts: (spec) => /^https?:/i.test(spec),
  check: (spec) => void httpTemplate(spec),
  open: (url, _, options) => ({
    getter: httpSource({ url, timeout: options.timeout }),
    describe: `http origin ${redactUrl(httpTemplate(url))}`,
  }),
};

/** SOURCE_MODULES are the kinds of --source a node understands, tried in order. */
export const SOURCE_MODULES: readonly SourceModule[] = [demo, sqlite, postgres, http];

function moduleOf(spec: string, modules: readonly SourceModule[]): SourceModule {
  const m = modules.find((m) => m.accepts(spec));
  if (!m) {
    const forms = modules.map((m) => m.form);
    const list = forms.length > 1 ? `${forms.slice(0, -1).join(", ")} or ${forms.at(-1)}` : forms.join("");
    throw new TypeError(`unknown source ${JSON.stringify(redactUrl(spec))}: use ${list} URL`);
  }
  m.check?.(spec);
  return m;
}

/**
 * checkSourceSpec throws a TypeError that says what to fix when `spec` is no `--source` that sourceFromSpec
 * understands; it opens nothing.
 */
export function checkSourceSpec(spec: string, modules: readonly SourceModule[] = SOURCE_MODULES): void {
  moduleOf(spec, modules);
}

/**
 * sourceFromSpec builds the loader a `--source` flag names: `demo`, `sqlite:PATH`, a postgres:// or
 * postgresql:// URL (table = group), or an http(s):// URL template with {key}; it throws when the
 * source cannot be opened. A PostgreSQL source connects lazily and must be closed.
 */
export function sourceFromSpec(
  spec: string,
  group: string,
  options: SourceOptions = {},
  modules: readonly SourceModule[] = SOURCE_MODULES,
): Source {
  return moduleOf(spec, modules).open(spec, group, options);
}

/** sourceSpec reads a --source setting: a spec that one of SOURCE_MODULES accepts. */
export function sourceSpec(t: string, name: string): string {
  try {
    checkSourceSpec(t);
  } catch (err) {
    throw settingError(name, errorMessage(err));
  }
  return t;
}

/** SOURCE_SETTINGS are where a group's values come from on a miss, and the sources' own settings. */
export const SOURCE_SETTINGS: readonly Setting[] = [
  {
    name: "source",
    help:
      "Where values come from on a miss: demo (in-memory SQLite with Tom, Jack, Sam), sqlite:PATH, " +
      "postgres://USER:PASSWORD@HOST:PORT/DB (table = group), or an origin http(s)://HOST/PATH/{key} (the " +
      "key, URL-encoded, replaces {key})",
    fallback: "demo",
    parse: sourceSpec,
    perGroup: true,
  },
  {
    name: "query",
    help: "SQL that reads one value, with the key as its one parameter: ? for SQLite, $1 for PostgreSQL",
    fallbackHelp: "SELECT value FROM <group> WHERE key = ?",
    hint: "SQL",
    parse: text(),
    perGroup: true,
  },
  ...SOURCE_MODULES.flatMap((m) => m.settings ?? []),
  {
    name: "source-timeout",
    help: "Time limit of one request to an http(s):// origin, and of opening a PostgreSQL connection: 500ms, 5s",
    fallbackHelp: formatDuration(DEFAULT_HTTP_TIMEOUT),
    hint: formatDuration(DEFAULT_HTTP_TIMEOUT),
    parse: duration(1, "500ms, 5s or 1m"),
  },
];
