import { GeeCacheError } from "../errors.ts";
import { parseBytes, parseDuration } from "../units.ts";
import { envName, FLAGS, type FlagName } from "./flags.ts";

/** Config is a node's settings after flags, environment and defaults are merged and checked. */
export interface Config {
  port: number;
  host: string;
  peers: string[];
  self: string;
  api: boolean;
  apiPort: number;
  group: string;
  cacheBytes: number;
  source: string;
  query: string | undefined;
  hash: "wyhash" | "crc32";
  replicas: number;
  basePath: string;
  peerTimeout: number;
  maxKeyBytes: number;
  logLevel: LogLevel;
  logFormat: "pretty" | "json";
}

/** LogLevel is how much a node logs. */
export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

const LOG_LEVELS: readonly LogLevel[] = ["silent", "error", "warn", "info", "debug"];

/** DEFAULTS are the settings of a node started with no flags. */
export const DEFAULTS = {
  port: "8001",
  host: "127.0.0.1",
  "api-port": "9999",
  group: "scores",
  "cache-bytes": "64MiB",
  source: "demo",
  hash: "wyhash",
  replicas: "50",
  "base-path": "/_geecache/",
  "peer-timeout": "2s",
  "max-key-bytes": "4KiB",
  "log-level": "info",
  "log-format": "pretty",
} as const satisfies Partial<Record<FlagName, string>>;

/**
 * resolveConfig merges parsed flags with GEECACHE_* variables and defaults, and checks every
 * value; a bad one throws a GeeCacheError INVALID_ARGUMENT whose message names the flag.
 */
export function resolveConfig(args: Record<string, unknown>, env: Record<string, string | undefined> = process.env): Config {
  for (const name of Object.keys(args)) {
    if (name !== "_" && !(name in FLAGS) && !isAlias(name)) throw bad(name, "is not a geecache flag (see --help)");
  }
  const raw = (name: FlagName): string | undefined => {
    const v = args[name];
    if (v !== undefined && v !== null && typeof v !== "boolean") return String(v);
    if (typeof v === "boolean") return String(v);
    return env[envName(name)];
  };
  const str = (name: keyof typeof DEFAULTS): string => raw(name) ?? DEFAULTS[name];

  const port = int("port", str("port"), 0, 65535);
  const host = str("host");
  if (host === "") throw bad("host", "must not be empty");
  const apiPort = int("api-port", str("api-port"), 0, 65535);
  const replicas = int("replicas", str("replicas"), 1, 10_000);

  const cacheBytes = parseBytes(str("cache-bytes"));
  if (cacheBytes === undefined) throw bad("cache-bytes", `accepts a size such as 1048576, 512KiB, 64MiB or 1GiB, got ${JSON.stringify(str("cache-bytes"))}`);
  const maxKeyBytes = parseBytes(str("max-key-bytes"));
  if (maxKeyBytes === undefined || maxKeyBytes < 1) throw bad("max-key-bytes", `accepts a size of at least 1 byte such as 4KiB, got ${JSON.stringify(str("max-key-bytes"))}`);
  const peerTimeout = parseDuration(str("peer-timeout"));
  if (peerTimeout === undefined || peerTimeout <= 0) throw bad("peer-timeout", `accepts a duration above zero such as 500ms, 2s or 1m, got ${JSON.stringify(str("peer-timeout"))}`);

  const hash = str("hash");
  if (hash !== "wyhash" && hash !== "crc32") throw bad("hash", `accepts wyhash or crc32, got ${JSON.stringify(hash)}`);
  const logLevel = str("log-level") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw bad("log-level", `accepts ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`);
  const logFormat = str("log-format");
  if (logFormat !== "pretty" && logFormat !== "json") throw bad("log-format", `accepts pretty or json, got ${JSON.stringify(logFormat)}`);

  const basePath = str("base-path");
  if (!/^\/([^?#]*\/)?$/.test(basePath)) throw bad("base-path", `must start and end with "/", such as /_geecache/, got ${JSON.stringify(basePath)}`);

  const group = str("group");
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(group)) throw bad("group", `accepts 1 to 128 letters, digits, "-", "_" or ".", got ${JSON.stringify(group)}`);

  const source = str("source");
  if (source !== "demo" && !source.startsWith("sqlite:")) throw bad("source", `accepts demo or sqlite:PATH, got ${JSON.stringify(source)}`);
  if (source === "sqlite:") throw bad("source", "sqlite: needs a path, such as sqlite:./data.db");

  const peers = (raw("peers") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => peerUrl(p));
  const self = raw("self") !== undefined ? peerUrl(raw("self")!, "self") : `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}`;
  const apiRaw = raw("api");
  const api = apiRaw === "true" || apiRaw === "1";
  if (apiRaw !== undefined && !["true", "false", "1", "0"].includes(apiRaw)) throw bad("api", `accepts true or false, got ${JSON.stringify(apiRaw)}`);

  return { port, host, peers, self, api, apiPort, group, cacheBytes, source, query: raw("query"), hash, replicas, basePath, peerTimeout, maxKeyBytes, logLevel, logFormat };
}

function int(flag: FlagName, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw bad(flag, `accepts a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function peerUrl(p: string, flag: FlagName = "peers"): string {
  if (/^\d+$/.test(p)) {
    const port = Number(p);
    if (port < 1 || port > 65535) throw bad(flag, `port ${p} is out of range 1 to 65535`);
    return `http://127.0.0.1:${port}`;
  }
  let url: URL;
  try {
    url = new URL(p);
  } catch {
    throw bad(flag, `accepts URLs such as http://127.0.0.1:8001 or bare ports, got ${JSON.stringify(p)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad(flag, `accepts http:// or https:// URLs, got ${JSON.stringify(p)}`);
  if (url.pathname !== "/" || url.search || url.hash) throw bad(flag, `a peer URL has no path, such as http://127.0.0.1:8001, got ${JSON.stringify(p)}`);
  return url.origin;
}

function isAlias(name: string): boolean {
  // citty also sets camelCase twins of kebab-case flags (apiPort for api-port).
  return Object.keys(FLAGS).some((f) => f.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === name);
}

function bad(flag: string, what: string): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", `--${flag} ${what}`);
}
