import type { DnsName } from "../cluster/dns-discovery.ts";
import type { Admission } from "../group/options.ts";
import type { LoggerOptions } from "../observability/log.ts";

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

/**
 * NodeConfig is a node's settings once parsed and checked: one field per setting (camelCase of its
 * flag; see settingsOf), plus what is derived from them (self, tls, groups). Modules may read more
 * fields than are typed here: it is the options bag they were declared against.
 */
export interface NodeConfig {
  port: number;
  host: string;
  peers: string[];
  peersFile: string | undefined;
  peersFileInterval: number;
  peersDns: DnsName | undefined;
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
  maxBatchKeys: number;
  ttl: number;
  stale: number;
  token: string | undefined;
  apiToken: string | undefined;
  apiReadToken: string | undefined;
  /** protectedMode refuses writes and peer requests from other hosts while their token is unset (protected-mode.ts). */
  protectedMode: boolean;
  tls: { cert: string; key: string } | undefined;
  tlsCa: string | undefined;
  logLevel: LoggerOptions["level"];
  logFormat: LoggerOptions["format"];
  /** accessLog writes one JSON line per request on standard output. */
  accessLog: boolean;
  metrics: boolean;
  copies: number;
  /** handoverBytes bounds what a leaving node sends to the new owners of its keys. */
  handoverBytes: number;
  /** handoffWindow (ms): previous owners are peeked until the ring has been stable this long. */
  handoffWindow: number;
  hotTtl: number;
  /** hotCacheRatio, hotQps, poolSize and sourceTimeout are undefined unless given: the modules' defaults apply. */
  hotCacheRatio?: number;
  hotQps?: number;
  admission: Admission;
  poolSize?: number;
  sourceTimeout?: number;
  /**
   * snapshot is the file a node saves its cache to on SIGTERM and loads on start; snapshotInterval (ms) saves it in the
   * background too (0 = off).
   */
  snapshot?: string;
  snapshotInterval: number;
  /** workers is how many threads serve the HTTP ports (--workers; 1 = the main thread alone). */
  workers: number;
  /** respPort opens the RESP (Redis) listener when set; 0 picks a free port. respTimeout (ms) cuts off a half-sent frame. */
  respPort: number | undefined;
  respMaxClients: number;
  respTimeout: number;
  /** groups are the node's cache groups: the [[group]] tables of --config, or the one group of the flags. */
  groups: GroupConfig[];
}
