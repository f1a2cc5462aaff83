import { DEFAULT_FILE_INTERVAL } from "../cluster/file-discovery.ts";
import { DEFAULT_PEER_TIMEOUT } from "../cluster/peer-set.ts";
import { DEFAULT_REPLICAS } from "../core/consistent-hash.ts";
import { DEFAULT_MAX_BATCH_KEYS, DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../core/limits.ts";
import {
  DEFAULT_ADMISSION,
  DEFAULT_CACHE_BYTES,
  DEFAULT_HOT_CACHE_RATIO,
  DEFAULT_HOT_QPS,
  DEFAULT_HOT_TTL,
} from "../group/options.ts";
import { DEFAULT_API_PORT, DEFAULT_HOST, DEFAULT_PORT } from "../node/server.ts";
import { DEFAULT_HTTP_TIMEOUT } from "../sources/http.ts";
import { DEFAULT_POOL_SIZE } from "../sources/postgres.ts";
import { DEFAULT_BASE_PATH } from "../transport/http/index.ts";

/** DEFAULT_GROUP is the CLI's group (and SQL table) name, as in GeeCache. */
export const DEFAULT_GROUP = "scores";

/** sizeText writes bytes as a flag value: 64MiB, 4KiB, or a plain number. */
function sizeText(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const)
    if (n % size === 0) return `${n / size}${unit}`;
  return String(n);
}

/** durationText writes ms as a flag value: 2s, 500ms. */
function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * DEFAULTS are the settings of a node started with no flags, as flag text. Each comes from the
 * library's named constant, so the CLI, its --help and the tests cannot drift from the library.
 */
export const DEFAULTS = {
  port: String(DEFAULT_PORT),
  host: DEFAULT_HOST,
  "api-port": String(DEFAULT_API_PORT),
  group: DEFAULT_GROUP,
  "cache-bytes": sizeText(DEFAULT_CACHE_BYTES),
  source: "demo",
  hash: "wyhash",
  replicas: String(DEFAULT_REPLICAS),
  "base-path": DEFAULT_BASE_PATH,
  "peer-timeout": durationText(DEFAULT_PEER_TIMEOUT),
  "peers-file-interval": durationText(DEFAULT_FILE_INTERVAL),
  "dns-interval": "5s",
  drain: "5s",
  "max-key-bytes": sizeText(DEFAULT_MAX_KEY_BYTES),
  "max-value-bytes": sizeText(DEFAULT_MAX_VALUE_BYTES),
  "max-batch-keys": String(DEFAULT_MAX_BATCH_KEYS),
  ttl: "0",
  stale: "0",
  "pool-size": String(DEFAULT_POOL_SIZE),
  "source-timeout": durationText(DEFAULT_HTTP_TIMEOUT),
  "hot-cache-ratio": String(DEFAULT_HOT_CACHE_RATIO),
  "hot-qps": String(DEFAULT_HOT_QPS),
  admission: DEFAULT_ADMISSION,
  "hot-ttl": durationText(DEFAULT_HOT_TTL),
  copies: "1",
  "log-level": "info",
  "log-format": "pretty",
} as const;
