export { type Discovery, type PeerUpdate, staticPeers } from "./cluster/discovery.ts";
export { observePeer, type PeerObserver, type RequestOutcome } from "./cluster/observe.ts";
export {
  type PeerGroup,
  type PeerGroups,
  PeerService,
  type PeerServiceOptions,
  type ReadContext,
} from "./cluster/peer-service.ts";
export { DEFAULT_PEER_TIMEOUT, type MembershipChange, PeerSet, type PeerSetOptions } from "./cluster/peer-set.ts";
export { PEER_SCHEMES, peerUrl } from "./cluster/peer-url.ts";
export type {
  Handler,
  Listening,
  ListenOptions,
  PeerRoutes,
  PeerTransport,
  TransportClient,
} from "./cluster/transport.ts";
export { bearerMatches } from "./core/bearer.ts";
export type { ByteCache } from "./core/byte-cache.ts";
export { ByteView } from "./core/byteview.ts";
export { crc32, DEFAULT_REPLICAS, type HashFn, Ring, type RingOptions, wyhash } from "./core/consistent-hash.ts";
export { type ErrorCode, GeeCacheError, httpStatus, isNotFound, notFound } from "./core/errors.ts";
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, GROUP_NAME, MAX_KEY_BYTES } from "./core/limits.ts";
export { LRU, type LRUOptions, type Sized } from "./core/lru.ts";
export { decodeResponse, encodeResponse, type PeerResponse } from "./core/protocol.ts";
export { SingleFlight } from "./core/singleflight.ts";
export { TinyLFU, type TinyLFUOptions } from "./core/tinylfu.ts";
export { formatBytes, parseBytes, parseDuration } from "./core/units.ts";
export type { CacheStats } from "./group/caches.ts";
export { Group } from "./group/group.ts";
export { MAX_KEY_LENGTH } from "./group/keys.ts";
export type { Getter, LoadContext, LoadedValue } from "./group/loader.ts";
export {
  type Admission,
  DEFAULT_ADMISSION,
  DEFAULT_CACHE_BYTES,
  DEFAULT_HOT_CACHE_RATIO,
  DEFAULT_HOT_QPS,
  type GroupOptions,
} from "./group/options.ts";
export type { PeerClient, PeerPicker } from "./group/peers.ts";
export { Registry } from "./group/registry.ts";
export type { GetResult, GroupStats, PeerFailure, WriteResult } from "./group/results.ts";
export { type ApiOptions, apiHandler, statsHandler } from "./node/api.ts";
export {
  DEFAULT_API_PORT,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SWEEP_INTERVAL,
  type NodeOptions,
  nodeHandlers,
  type RunningNode,
  startNode,
} from "./node/server.ts";
export { DEFAULT_GC_CHECK_INTERVAL, GcPacer, type GcPacerOptions } from "./observability/gc-pacer.ts";
export { NodeMetrics, type NodeMetricsOptions } from "./observability/metrics/node-metrics.ts";
export { DEMO_ROWS, demoSource } from "./sources/demo.ts";
export { DEFAULT_HTTP_TIMEOUT, type HttpSourceOptions, httpSource } from "./sources/http.ts";
export {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_POOL_SIZE,
  type PostgresSource,
  type PostgresSourceOptions,
  postgresSource,
} from "./sources/postgres.ts";
export { type SqliteSourceOptions, sqliteSource } from "./sources/sqlite.ts";
export { type GrpcTransport, type GrpcTransportOptions, grpcTransport } from "./transport/grpc/index.ts";
export { HttpPeer, type HttpPeerOptions } from "./transport/http/client.ts";
export {
  DEFAULT_BASE_PATH,
  type HttpTransport,
  type HttpTransportOptions,
  httpTransport,
} from "./transport/http/index.ts";
export { type PeerRoutesOptions, peerRoutes } from "./transport/http/routes.ts";
