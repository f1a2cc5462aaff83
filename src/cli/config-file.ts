import { readFileSync } from "node:fs";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { optionName, type Setting, settingDetail, tomlKey } from "../core/settings.ts";
import { groupName } from "../group/settings.ts";
import type { GroupConfig } from "../node/config.ts";

/** ConfigFile is a parsed --config file: node settings as flag text, and the [[group]] tables. */
export interface ConfigFile {
  path: string;
  flags: Partial<Record<string, string>>;
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
export function readConfigFile(path: string, settings: ReadonlySet<string>): ConfigFile {
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
  const flags: Partial<Record<string, string>> = {};
  let groups: ConfigFile["groups"] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === "group" && Array.isArray(value)) {
      const starts = lines.flatMap((l, i) => (/^\s*\[\[\s*group\s*\]\]/.test(l) ? [i + 1] : []));
      groups = value.map((fields, i) => ({ line: starts[i], fields: fields as Record<string, unknown> }));
      continue;
    }
    const flag = key.replaceAll("_", "-");
    if (!settings.has(flag) || flag === "config")
      throw fileError(
        path,
        lineOf(key),
        key,
        `is not a setting (use the flags' names with "_", e.g. cache_bytes; groups go in [[group]] tables)`,
      );
    if (typeof value === "object" && !Array.isArray(value))
      throw fileError(path, lineOf(key), key, "must be a string, number, boolean or list");
    flags[flag] = Array.isArray(value) ? value.map(String).join(",") : String(value);
  }
  return { path, flags, groups, lineOf };
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
 * groupsFrom checks the file's [[group]] tables, each field read by its setting (the perGroup ones),
 * and fills what a table leaves out from the node's settings.
 */
export function groupsFrom(file: ConfigFile, node: GroupConfig, settings: readonly Setting[]): GroupConfig[] {
  const perGroup = new Map(settings.filter((s) => s.perGroup).map((s) => [tomlKey(s.name), s]));
  const fields = ["name", ...perGroup.keys()];
  const seen = new Set<string>();
  return file.groups.map(({ line, fields: table }) => {
    const fail = (field: string, what: string) =>
      fileError(file.path, file.lineOf(field, line) ?? line, `[[group]] ${field}`, what);
    for (const key of Object.keys(table))
      if (!fields.includes(key)) throw fail(key, `is not a group field (${fields.join(", ")})`);
    const read = <T>(field: string, parse: (t: string, name: string) => T): T | undefined => {
      const v = table[field];
      if (v === undefined) return undefined;
      if (typeof v !== "string" && typeof v !== "number")
        throw fail(field, `must be a string, got ${JSON.stringify(v)}`);
      try {
        return parse(String(v), field.replaceAll("_", "-"));
      } catch (err) {
        throw fail(
          field,
          err instanceof GeeCacheError && err.flag !== undefined ? settingDetail(err) : errorMessage(err),
        );
      }
    };
    const name = read("name", groupName);
    if (name === undefined) throw fileError(file.path, line, "[[group]] name", "is missing: every group needs a name");
    if (seen.has(name)) throw fail("name", `${JSON.stringify(name)} is already a group`);
    seen.add(name);
    const group: Record<string, unknown> = { ...node, name };
    for (const [field, s] of perGroup) {
      const value = read(field, s.parse);
      if (value !== undefined) group[optionName(s)] = value;
    }
    // A group with a source of its own does not inherit the node's query.
    if (table.source !== undefined && table.query === undefined) group.query = undefined;
    return group as unknown as GroupConfig;
  });
}
