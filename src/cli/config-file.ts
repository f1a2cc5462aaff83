import { readFileSync } from "node:fs";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { GROUP_NAME } from "../core/limits.ts";
import { parseBytes, parseDuration, unitHint, unitMissing } from "../core/units.ts";
import { ADMISSIONS, type Admission } from "../group/options.ts";
import { checkSourceSpec } from "../sources/spec.ts";
import { envName, FLAGS, type FlagName } from "./flags.ts";

/** GROUP_FIELDS are the fields of one `[[group]]` table. */
export const GROUP_FIELDS = ["name", "source", "query", "cache_bytes", "ttl", "stale", "hot_ttl", "admission"] as const;

/** GroupConfig is one cache group of a node, its defaults taken from the node's settings. */
export interface GroupConfig {
  name: string;
  source: string;
  query: string | undefined;
  cacheBytes: number;
  ttl: number;
  stale: number;
  hotTtl: number;
  admission: Admission;
}

/** ConfigFile is a parsed --config file: node settings as flag text, and the [[group]] tables. */
export interface ConfigFile {
  path: string;
  flags: Partial<Record<FlagName, string>>;
  groups: Array<{ line: number | undefined; fields: Record<string, unknown> }>;
  /** lineOf finds the line that sets a field (the first `field =`, from line `from` on). */
  lineOf(field: string, from?: number): number | undefined;
}

/** fileError is a bad --config file: one line naming the file, the line when known, and the field. */
export function fileError(
  path: string,
  line: number | undefined,
  field: string | undefined,
  what: string,
): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", `${path}${line ? `:${line}` : ""}: ${field ? `${field}: ` : ""}${what}`);
}

/**
 * readConfigFile reads a TOML file of node settings (the flags' names with `_`, e.g.
 * `cache_bytes = "64MiB"`) and `[[group]]` tables; a file that cannot be read or parsed, or that
 * holds an unknown setting, throws a fileError.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw fileError(path, undefined, undefined, `cannot read it: ${errorMessage(err)}`);
  }
  const lines = text.split("\n");
  let doc: Record<string, unknown>;
  try {
    doc = Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw fileError(
      path,
      errorLine(lines),
      undefined,
      errorMessage(err).replace(/^TOML Parse error: /, "not valid TOML: "),
    );
  }
  const lineOf = (field: string, from = 1) => {
    const re = new RegExp(`^\\s*["']?${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*=`);
    for (let i = from - 1; i < lines.length; i++) if (re.test(lines[i]!)) return i + 1;
    return undefined;
  };
  const flags: Partial<Record<FlagName, string>> = {};
  let groups: ConfigFile["groups"] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === "group" && Array.isArray(value)) {
      const starts = lines.flatMap((l, i) => (/^\s*\[\[\s*group\s*\]\]/.test(l) ? [i + 1] : []));
      groups = value.map((fields, i) => ({ line: starts[i], fields: fields as Record<string, unknown> }));
      continue;
    }
    const flag = key.replaceAll("_", "-");
    if (!(flag in FLAGS) || flag === "config")
      throw fileError(
        path,
        lineOf(key),
        key,
        `is not a setting (use the flags' names with "_", e.g. cache_bytes; groups go in [[group]] tables)`,
      );
    if (typeof value === "object" && !Array.isArray(value))
      throw fileError(path, lineOf(key), key, "must be a string, number, boolean or list");
    flags[flag as FlagName] = Array.isArray(value) ? value.map(String).join(",") : String(value);
  }
  return { path, flags, groups, lineOf };
}

/**
 * blameFile turns the error of a bad setting that came from file (not overridden by a flag or variable) into a
 * fileError naming its line and field.
 */
export function blameFile(
  err: unknown,
  file: ConfigFile,
  args: Record<string, unknown>,
  env: Record<string, string | undefined>,
): unknown {
  const flag = err instanceof GeeCacheError ? /^--([a-z-]+) /.exec(err.message)?.[1] : undefined;
  if (
    !flag ||
    file.flags[flag as FlagName] === undefined ||
    args[flag] !== undefined ||
    env[envName(flag)] !== undefined
  )
    return err;
  const field = flag.replaceAll("-", "_");
  return fileError(file.path, file.lineOf(field), field, (err as Error).message.slice(flag.length + 3));
}

/** errorLine guesses where a TOML error is: the line after the longest start of the file that parses. */
function errorLine(lines: string[]): number | undefined {
  for (let n = lines.length - 1; n >= 0; n--) {
    try {
      Bun.TOML.parse(lines.slice(0, n).join("\n"));
      return n + 1;
    } catch {
      // keep shortening
    }
  }
  return undefined;
}

/**
 * groupsFrom checks the file's [[group]] tables and fills what a table leaves out from the node's
 * settings (source, query, cache_bytes, ttl, stale, hot_ttl, admission).
 */
export function groupsFrom(file: ConfigFile, node: Omit<GroupConfig, "name">): GroupConfig[] {
  const seen = new Set<string>();
  return file.groups.map(({ line, fields }) => {
    const fail = (field: string, what: string) =>
      fileError(file.path, file.lineOf(field, line) ?? line, `[[group]] ${field}`, what);
    for (const key of Object.keys(fields))
      if (!(GROUP_FIELDS as readonly string[]).includes(key))
        throw fail(key, `is not a group field (${GROUP_FIELDS.join(", ")})`);
    const str = (field: string): string | undefined => {
      const v = fields[field];
      if (v === undefined) return undefined;
      if (typeof v !== "string" && typeof v !== "number")
        throw fail(field, `must be a string, got ${JSON.stringify(v)}`);
      return String(v);
    };
    const name = str("name");
    if (name === undefined) throw fileError(file.path, line, "[[group]] name", "is missing: every group needs a name");
    if (!GROUP_NAME.test(name))
      throw fail("name", `accepts 1 to 128 letters, digits, "-", "_" or ".", got ${JSON.stringify(name)}`);
    if (seen.has(name)) throw fail("name", `${JSON.stringify(name)} is already a group`);
    seen.add(name);
    const source = str("source");
    if (source !== undefined) {
      try {
        checkSourceSpec(source);
      } catch (err) {
        throw fail("source", errorMessage(err));
      }
    }
    const size = (field: string, fallback: number) => {
      const t = str(field);
      if (t === undefined) return fallback;
      const n = parseBytes(t);
      if (n === undefined) throw fail(field, `accepts a size such as 512KiB, 64MiB or 1GiB, got ${JSON.stringify(t)}`);
      return n;
    };
    const duration = (field: string, fallback: number) => {
      const t = str(field);
      if (t === undefined) return fallback;
      if (unitMissing(t)) throw fail(field, unitHint(field, t).replace(/^[^:]*: /, ""));
      const ms = parseDuration(t);
      if (ms === undefined) throw fail(field, `accepts a duration such as 30s, 5m, 1h or 0, got ${JSON.stringify(t)}`);
      return ms;
    };
    const admission = str("admission") ?? node.admission;
    if (!ADMISSIONS.includes(admission as Admission))
      throw fail("admission", `accepts ${ADMISSIONS.join(" or ")}, got ${JSON.stringify(admission)}`);
    return {
      name,
      source: source ?? node.source,
      // A group with a source of its own does not inherit the node's query.
      query: str("query") ?? (source === undefined ? node.query : undefined),
      cacheBytes: size("cache_bytes", node.cacheBytes),
      ttl: duration("ttl", node.ttl),
      stale: duration("stale", node.stale),
      hotTtl: duration("hot_ttl", node.hotTtl),
      admission: admission as Admission,
    };
  });
}
