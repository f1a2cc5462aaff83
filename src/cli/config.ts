import { GeeCacheError } from "../core/errors.ts";
import { envName, optionName, type Setting, settingDetail, text } from "../core/settings.ts";
import type { NodeConfig } from "../node/config.ts";
import { BUILTIN_MODULES, checkOptions, defaultSelf, type NodeModules, settingsOf } from "../node/modules.ts";
import { type ConfigFile, fileError, groupsFrom, readConfigFile } from "./config-file.ts";

/** Config is a node's settings after flags, environment, --config and defaults are merged and checked. */
export type Config = NodeConfig;
export type { GroupConfig } from "../node/config.ts";

/** CONFIG_SETTING is the CLI's own setting: the TOML file the others may also come from. */
export const CONFIG_SETTING: Setting = {
  name: "config",
  help:
    "TOML file of settings (the flags' names with _) and [[group]] tables, one per cache group; flags and" +
    " GEECACHE_* variables override it",
  hint: "geecache.toml",
  parse: text(true),
};

/** cliSettings are every flag of the geecache command: the node's settings and --config. */
export function cliSettings(modules: NodeModules = BUILTIN_MODULES): Setting[] {
  return [...settingsOf(modules), CONFIG_SETTING];
}

/**
 * resolveConfig merges flags over GEECACHE_* variables over the --config file over defaults, every
 * setting read by its own entry; a bad value throws INVALID_ARGUMENT with the setting in `flag` (a
 * value from the file names the file, line and field instead).
 */
export function resolveConfig(
  args: Record<string, unknown>,
  env: Record<string, string | undefined> = process.env,
  modules: NodeModules = BUILTIN_MODULES,
): Config {
  const settings = cliSettings(modules);
  const names = new Set(settings.map((s) => s.name));
  for (const name of Object.keys(args)) {
    if (name !== "_" && !names.has(name) && !isCamelTwin(name, names))
      throw new GeeCacheError("INVALID_ARGUMENT", `--${name} is not a geecache flag (see --help)`, { flag: name });
  }
  const positional = Array.isArray(args._) ? (args._ as unknown[]).map(String) : [];
  if (positional.length > 0) throw new GeeCacheError("INVALID_ARGUMENT", unexpected(positional[0]!, names));

  const path = args.config !== undefined ? String(args.config) : env[envName("config")];
  const file = path === undefined ? undefined : readConfigFile(path, names);
  const given = new Set<string>();
  const fromFile = new Set<string>();
  const o: Record<string, unknown> = {};
  for (const s of settings) {
    const a = args[s.name];
    const t = a !== undefined && a !== null ? String(a) : (env[envName(s.name)] ?? file?.flags[s.name]);
    if (t !== undefined) given.add(s.name);
    if (t !== undefined && t === file?.flags[s.name] && a == null && env[envName(s.name)] === undefined)
      fromFile.add(s.name);
    const key = optionName(s);
    const value = t ?? s.fallback;
    if (value === undefined) {
      if (!(key in o)) o[key] = undefined;
      continue;
    }
    try {
      o[key] = s.parse(value, s.name);
    } catch (err) {
      throw file && fromFile.has(s.name) ? blame(err, file) : err;
    }
  }
  if (file?.groups.length && given.has("group") && !fromFile.has("group"))
    throw new GeeCacheError("INVALID_ARGUMENT", `--group cannot be used with the [[group]] tables of ${file.path}`, {
      flag: "group",
    });
  try {
    checkOptions(o, given, modules);
  } catch (err) {
    throw file && err instanceof GeeCacheError && fromFile.has(err.flag ?? "") ? blame(err, file) : err;
  }
  const { tlsCert, tlsKey, config: _, ...rest } = o;
  const c = {
    ...rest,
    self: o.self ?? defaultSelf(o, modules),
    tls: tlsCert !== undefined ? { cert: tlsCert as string, key: tlsKey as string } : undefined,
  } as Omit<Config, "groups">;
  const node = {
    name: c.group,
    source: c.source,
    query: c.query,
    cacheBytes: c.cacheBytes,
    ttl: c.ttl,
    stale: c.stale,
    hotTtl: c.hotTtl,
    admission: c.admission,
  };
  return { ...c, groups: file?.groups.length ? groupsFrom(file, node, settings) : [node] };
}

/** blame turns the error of a setting that came from the file into one naming the file, its line and field. */
function blame(err: unknown, file: ConfigFile): unknown {
  if (!(err instanceof GeeCacheError) || err.flag === undefined) return err;
  const field = err.flag.replaceAll("-", "_");
  return fileError(file.path, file.lineOf(field), field, settingDetail(err));
}

/** unexpected says what to do with a positional argument: geecache takes flags only. */
function unexpected(arg: string, names: ReadonlySet<string>): string {
  const name = /^-?([a-z-]+)(=|$)/.exec(arg)?.[1];
  const hint =
    name !== undefined && names.has(name)
      ? `did you mean --${arg.replace(/^-/, "")}?`
      : "geecache takes --flags only (see --help)";
  return `unexpected argument ${JSON.stringify(arg)}: ${hint}`;
}

/** isCamelTwin: citty also sets camelCase twins of kebab-case flags (apiPort for api-port). */
function isCamelTwin(name: string, names: ReadonlySet<string>): boolean {
  return names.has(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
}
