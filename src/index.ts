export { ByteView } from "./byteview.ts";
export { crc32, DEFAULT_REPLICAS, Ring, wyhash, type HashFn, type RingOptions } from "./consistent-hash.ts";
export { GeeCacheError, httpStatus, isNotFound, notFound, type ErrorCode } from "./errors.ts";
export {
  DEFAULT_CACHE_BYTES,
  DEFAULT_HOT_CACHE_RATIO,
  Group,
  MAX_KEY_LENGTH,
  type CacheStats,
  type Getter,
  type GetResult,
  type GroupOptions,
  type GroupStats,
  type PeerFailure,
  type WriteResult,
  type LoadContext,
  type LoadedValue,
} from "./group.ts";
export { LRU, type LRUOptions, type Sized } from "./lru.ts";
export type { PeerGetter, PeerPicker } from "./peers.ts";
export { decodeResponse, encodeResponse, type PeerResponse } from "./protocol.ts";
export { Registry } from "./registry.ts";
export { SingleFlight } from "./singleflight.ts";
export { bearerMatches } from "./auth.ts";
export { apiHandler, statsHandler, type ApiOptions } from "./api.ts";
export { HttpPeer, type HttpPeerOptions } from "./http-peer.ts";
export { DEFAULT_BASE_PATH, DEFAULT_PEER_TIMEOUT, HttpPool, type HttpPoolOptions } from "./http-pool.ts";
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from "./limits.ts";
export { NodeMetrics, type NodeMetricsOptions } from "./metrics/node-metrics.ts";
export { DEFAULT_SWEEP_INTERVAL, nodeHandlers, startNode, type Handler, type NodeOptions, type RunningNode } from "./server.ts";
export { DEMO_ROWS, demoSource } from "./sources/demo.ts";
export { DEFAULT_HTTP_TIMEOUT, httpSource, type HttpSourceOptions } from "./sources/http.ts";
export { DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, postgresSource, type PostgresSource, type PostgresSourceOptions } from "./sources/postgres.ts";
export { sqliteSource, type SqliteSourceOptions } from "./sources/sqlite.ts";
export { formatBytes, parseBytes, parseDuration } from "./units.ts";
