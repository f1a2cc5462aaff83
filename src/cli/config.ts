import { peerUrl as checkPeerUrl } from "../cluster/peer-url.ts";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { GROUP_NAME } from "../core/limits.ts";
import { parseBytes } from "../core/units.ts";
import { checkSourceSpec } from "../sources/spec.ts";
import { blameFile, type GroupConfig, groupsFrom, readConfigFile } from "./config-file.ts";
import { DEFAULTS } from "./defaults.ts";
import { bad, bool, decimal, duration, durationOf, int, readPem, secret } from "./flag-values.ts";
import { envName, FLAGS, type FlagName } from "./flags.ts";

/** Config is a node's settings after flags, environment and defaults are merged and checked. */
export interface Config {
  port: number;
  host: string;
  peers: string[];
  /** peersFile, when set, is followed for membership instead of a fixed --peers list. */
  peersFile: string | undefined;
  peersFileInterval: number;
  /** peersDns follows a DNS name for membership: A/AAAA records, or SRV records with srv. */
  peersDns: { name: string; port: number | undefined; srv: boolean } | undefined;
  dnsServer: string | undefined;
  dnsInterval: number;
  /** drain (ms) is how long a node answers /readyz 503 but keeps serving after SIGTERM. */
  drain: number;
  /** self is undefined when the node learns it once listening (--port=0 without --self). */
  self: string | undefined;
  /** grpcPort opens the gRPC listener (geecachepb.GroupCache) when set; 0 picks a free port. */
  grpcPort: number | undefined;
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
  maxValueBytes: number;
  /** maxBatchKeys is the most keys one POST /api/batch may ask for. */
  maxBatchKeys: number;
  ttl: number;
  stale: number;
  token: string | undefined;
  apiToken: string | undefined;
  apiReadToken: string | undefined;
  tls: { cert: string; key: string } | undefined;
  tlsCa: string | undefined;
  logLevel: LogLevel;
  logFormat: "pretty" | "json";
  /** metrics serves /metrics and times requests (on unless --no-metrics). */
  metrics: boolean;
  /** copies is on how many nodes a written value lives. */
  copies: number;
  /** hotTtl (ms) bounds how long a copy of another node's key is served here. */
  hotTtl: number;
  /** hotCacheRatio is set only by --hot-cache-ratio; undefined leaves the Group's default. */
  hotCacheRatio?: number;
  /** hotQps is set only by --hot-qps; undefined leaves the Group's default. */
  hotQps?: number;
  /** admission is the main cache's policy. */
  admission: "tinylfu" | "lru";
  /** poolSize is set only by --pool-size; undefined leaves the PostgreSQL source's default (10). */
  poolSize?: number;
  /** sourceTimeout (ms) is set only by --source-timeout; undefined leaves the sources' default (5s). */
  sourceTimeout?: number;
  /** groups are the node's cache groups: the [[group]] tables of --config, or the one group of the flags. */
  groups: GroupConfig[];
}

/** LogLevel is how much a node logs. */
export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

const LOG_LEVELS: readonly LogLevel[] = ["silent", "error", "warn", "info", "debug"];

export { DEFAULTS } from "./defaults.ts";

/**
 * resolveConfig merges flags over GEECACHE_* variables over the --config file over defaults; a bad value throws
 * INVALID_ARGUMENT naming the flag (or the file, line and field).
 */
export function resolveConfig(
  args: Record<string, unknown>,
  env: Record<string, string | undefined> = process.env,
): Config {
  const path = args.config !== undefined ? String(args.config) : env[envName("config")];
  const file = path === undefined ? undefined : readConfigFile(path);
  if (file?.groups.length && (args.group !== undefined || env[envName("group")] !== undefined))
    throw bad("group", `cannot be used with the [[group]] tables of ${file.path}`);
  let c: Omit<Config, "groups">;
  try {
    c = resolveFlags(args, env, file?.flags ?? {});
  } catch (err) {
    throw file ? blameFile(err, file, args, env) : err; // a bad value from the file names its line
  }
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
  return { ...c, groups: file?.groups.length ? groupsFrom(file, node) : [node] };
}

function resolveFlags(
  args: Record<string, unknown>,
  env: Record<string, string | undefined>,
  fromFile: Partial<Record<FlagName, string>>,
): Omit<Config, "groups"> {
  for (const name of Object.keys(args)) {
    if (name !== "_" && !(name in FLAGS) && !isAlias(name)) throw bad(name, "is not a geecache flag (see --help)");
  }
  const positional = Array.isArray(args._) ? (args._ as unknown[]).map(String) : [];
  if (positional.length > 0) throw new GeeCacheError("INVALID_ARGUMENT", unexpected(positional[0]!));
  const raw = (name: FlagName): string | undefined => {
    const v = args[name];
    if (v !== undefined && v !== null && typeof v !== "boolean") return String(v);
    if (typeof v === "boolean") return String(v);
    return env[envName(name)] ?? fromFile[name];
  };
  const str = (name: keyof typeof DEFAULTS): string => raw(name) ?? DEFAULTS[name];

  const port = int("port", str("port"), 0, 65535);
  const host = str("host");
  if (host === "") throw bad("host", "must not be empty");
  const apiPort = int("api-port", str("api-port"), 0, 65535);
  const replicas = int("replicas", str("replicas"), 1, 10_000);

  const cacheBytes = parseBytes(str("cache-bytes"));
  if (cacheBytes === undefined)
    throw bad(
      "cache-bytes",
      `accepts a size such as 1048576, 512KiB, 64MiB or 1GiB, got ${JSON.stringify(str("cache-bytes"))}`,
    );
  const maxKeyBytes = parseBytes(str("max-key-bytes"));
  if (maxKeyBytes === undefined || maxKeyBytes < 1)
    throw bad(
      "max-key-bytes",
      `accepts a size of at least 1 byte such as 4KiB, got ${JSON.stringify(str("max-key-bytes"))}`,
    );
  const peerTimeout = durationOf("peer-timeout", str("peer-timeout"));
  if (peerTimeout === undefined || peerTimeout <= 0)
    throw bad(
      "peer-timeout",
      `accepts a duration above zero such as 500ms, 2s or 1m, got ${JSON.stringify(str("peer-timeout"))}`,
    );

  const maxValueBytes = parseBytes(str("max-value-bytes"));
  if (maxValueBytes === undefined || maxValueBytes < 1)
    throw bad(
      "max-value-bytes",
      `accepts a size of at least 1 byte such as 1MiB, got ${JSON.stringify(str("max-value-bytes"))}`,
    );
  const maxBatchKeys = int("max-batch-keys", str("max-batch-keys"), 1, 1_000_000);
  const ttl = duration("ttl", str("ttl"));
  const hotTtl = duration("hot-ttl", str("hot-ttl"));
  const copies = int("copies", str("copies"), 1, 10);
  const hotCacheRatio = decimal("hot-cache-ratio", raw("hot-cache-ratio"), 1, "a number from 0 to 1 such as 0.1");
  const hotQps = decimal(
    "hot-qps",
    raw("hot-qps"),
    Number.MAX_VALUE,
    "a rate in requests per second such as 1 or 0.5 (0 = the coin of --hot-cache-ratio alone)",
  );
  const stale = duration("stale", str("stale"));

  const token = secret("token", raw("token"));
  const apiToken = secret("api-token", raw("api-token"));
  const apiReadToken = secret("api-read-token", raw("api-read-token"));
  const certPath = raw("tls-cert");
  const keyPath = raw("tls-key");
  if ((certPath === undefined) !== (keyPath === undefined))
    throw bad(certPath === undefined ? "tls-key" : "tls-cert", "needs --tls-cert and --tls-key together");
  const tls =
    certPath !== undefined && keyPath !== undefined
      ? { cert: readPem("tls-cert", certPath), key: readPem("tls-key", keyPath) }
      : undefined;
  const caPath = raw("tls-ca");
  const tlsCa = caPath !== undefined ? readPem("tls-ca", caPath) : undefined;

  const hash = str("hash");
  if (hash !== "wyhash" && hash !== "crc32") throw bad("hash", `accepts wyhash or crc32, got ${JSON.stringify(hash)}`);
  const admission = str("admission");
  if (admission !== "tinylfu" && admission !== "lru")
    throw bad("admission", `accepts tinylfu or lru, got ${JSON.stringify(admission)}`);
  const logLevel = str("log-level") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw bad("log-level", `accepts ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`);
  const logFormat = str("log-format");
  if (logFormat !== "pretty" && logFormat !== "json")
    throw bad("log-format", `accepts pretty or json, got ${JSON.stringify(logFormat)}`);

  const basePath = str("base-path");
  if (!/^\/([^?#]*\/)?$/.test(basePath))
    throw bad("base-path", `must start and end with "/", such as /_geecache/, got ${JSON.stringify(basePath)}`);

  const group = str("group");
  if (group.includes(","))
    throw bad(
      "group",
      `names one group, got ${JSON.stringify(group)}: for several, use --config=FILE with one [[group]] table each`,
    );
  if (!GROUP_NAME.test(group))
    throw bad("group", `accepts 1 to 128 letters, digits, "-", "_" or ".", got ${JSON.stringify(group)}`);

  const source = str("source");
  try {
    checkSourceSpec(source);
  } catch (err) {
    throw bad("source", errorMessage(err));
  }
  const poolText = raw("pool-size");
  const poolSize = poolText === undefined ? undefined : int("pool-size", poolText, 1, 1000);
  const timeoutText = raw("source-timeout");
  const sourceTimeout = timeoutText === undefined ? undefined : durationOf("source-timeout", timeoutText);
  if (timeoutText !== undefined && !(sourceTimeout !== undefined && sourceTimeout > 0)) {
    throw bad(
      "source-timeout",
      `accepts a duration above zero such as 500ms, 5s or 1m, got ${JSON.stringify(timeoutText)}`,
    );
  }

  const peers = (raw("peers") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => peerUrl(p));
  const peersFile = raw("peers-file");
  if (peersFile !== undefined && peers.length > 0)
    throw bad("peers-file", "and --peers cannot be used together: list the nodes in one place");
  if (peersFile === "") throw bad("peers-file", "must name a file");
  const peersFileInterval = durationOf("peers-file-interval", str("peers-file-interval"));
  if (peersFileInterval === undefined || peersFileInterval <= 0) {
    throw bad(
      "peers-file-interval",
      `accepts a duration above zero such as 500ms or 1s, got ${JSON.stringify(str("peers-file-interval"))}`,
    );
  }
  const dnsText = raw("peers-dns");
  const srvText = raw("peers-srv");
  if (dnsText !== undefined && srvText !== undefined)
    throw bad("peers-srv", "and --peers-dns cannot be used together: choose A/AAAA or SRV records");
  const dnsFlag: FlagName = srvText !== undefined ? "peers-srv" : "peers-dns";
  const peersDns = dnsName(dnsFlag, dnsText ?? srvText);
  if (peersDns && (peers.length > 0 || peersFile !== undefined))
    throw bad(
      dnsFlag,
      `cannot be used with ${peers.length > 0 ? "--peers" : "--peers-file"}: list the nodes in one place`,
    );
  const dnsServer = raw("dns-server");
  if (dnsServer !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/.test(dnsServer)) {
    throw bad(
      "dns-server",
      `accepts an IP address with an optional port, such as 10.0.0.10 or 127.0.0.1:5353, got ${JSON.stringify(dnsServer)}`,
    );
  }
  const dnsInterval = durationOf("dns-interval", str("dns-interval"));
  if (dnsInterval === undefined || dnsInterval < 100)
    throw bad(
      "dns-interval",
      `accepts a duration of at least 100ms such as 1s or 5s, got ${JSON.stringify(str("dns-interval"))}`,
    );
  const drain = duration("drain", str("drain"));
  const concreteHost = host !== "0.0.0.0" && host !== "::" && host !== "";
  if (peersDns && raw("self") === undefined && !concreteHost) {
    throw bad(
      dnsFlag,
      "needs --self (the URL the other nodes reach this one at, e.g. http://$(POD_IP):8001) or a concrete --host address",
    );
  }
  const selfHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const grpcText = raw("grpc-port");
  const grpcPort = grpcText === undefined ? undefined : int("grpc-port", grpcText, 0, 65535);
  const grpcPeer = [...peers, ...(raw("self") !== undefined ? [raw("self")!] : [])].find((p) => /^grpcs?:\/\//.test(p));
  if (grpcPeer !== undefined && grpcPort === undefined)
    throw bad("grpc-port", `is needed for gRPC peers such as ${grpcPeer}: this node must serve gRPC too`);
  const self =
    raw("self") !== undefined
      ? peerUrl(raw("self")!, "self")
      : selfOverGrpc(peers, grpcPort)
        ? grpcPort === 0
          ? undefined
          : `${tls ? "grpcs" : "grpc"}://${selfHost}:${grpcPort}`
        : port === 0
          ? undefined
          : `${tls ? "https" : "http"}://${selfHost}:${port}`;
  const api = bool("api", raw("api"), false);
  const metrics = bool("metrics", raw("metrics"), true);

  return {
    port,
    host,
    peers,
    peersFile,
    peersFileInterval,
    peersDns: peersDns && { ...peersDns, srv: srvText !== undefined },
    dnsServer,
    dnsInterval,
    drain,
    self,
    grpcPort,
    api,
    apiPort,
    group,
    cacheBytes,
    source,
    query: raw("query"),
    hash,
    replicas,
    basePath,
    peerTimeout,
    maxKeyBytes,
    maxValueBytes,
    maxBatchKeys,
    ttl,
    stale,
    token,
    apiToken,
    apiReadToken,
    tls,
    tlsCa,
    logLevel,
    logFormat,
    metrics,
    hotTtl,
    copies,
    hotCacheRatio,
    hotQps,
    admission,
    poolSize,
    sourceTimeout,
  };
}

/**
 * selfOverGrpc tells whether a node is named by its gRPC URL: it serves gRPC and its --peers, if any, include grpc://
 * or grpcs:// URLs.
 */
export function selfOverGrpc(peers: readonly string[], grpcPort: number | undefined): boolean {
  return (
    grpcPort !== undefined &&
    (peers.length === 0 || peers.some((p) => p.startsWith("grpc://") || p.startsWith("grpcs://")))
  );
}

/** dnsName reads NAME or NAME:PORT for --peers-dns / --peers-srv. */
function dnsName(flag: FlagName, text: string | undefined): { name: string; port: number | undefined } | undefined {
  if (text === undefined) return undefined;
  const m = /^([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m)
    throw bad(
      flag,
      `accepts a DNS name with an optional :PORT, such as geecache-peers.default.svc.cluster.local:8001, got ${JSON.stringify(text)}`,
    );
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw bad(flag, `port ${port} is out of range 1 to 65535`);
  return { name: m[1]!, port };
}

function peerUrl(p: string, flag: FlagName = "peers"): string {
  try {
    return checkPeerUrl(p);
  } catch (err) {
    throw bad(flag, errorMessage(err).replace(/^peer URL /, ""));
  }
}

/** unexpected says what to do with a positional argument: geecache takes flags only. */
function unexpected(arg: string): string {
  const name = /^-?([a-z-]+)(=|$)/.exec(arg)?.[1];
  const hint =
    name !== undefined && name in FLAGS
      ? `did you mean --${arg.replace(/^-/, "")}?`
      : "geecache takes --flags only (see --help)";
  return `unexpected argument ${JSON.stringify(arg)}: ${hint}`;
}

function isAlias(name: string): boolean {
  // citty also sets camelCase twins of kebab-case flags (apiPort for api-port).
  return Object.keys(FLAGS).some((f) => f.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === name);
}
