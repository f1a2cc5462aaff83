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
  type LoadContext,
  type LoadedValue,
} from "./group.ts";
export { LRU, type LRUOptions, type Sized } from "./lru.ts";
export type { PeerGetter, PeerPicker } from "./peers.ts";
export { decodeResponse, encodeResponse, type PeerResponse } from "./protocol.ts";
export { Registry } from "./registry.ts";
export { SingleFlight } from "./singleflight.ts";
