import type { ByteView } from "../core/byteview.ts";

/** GroupStats are a group's counters since it was made. */
export interface GroupStats {
  gets: number; // every get, from the API or a peer
  cacheHits: number; // served from the main or hot cache
  peerLoads: number; // fetched from a peer
  peerErrors: number; // a peer failed and we loaded locally instead
  loads: number; // gets that missed the cache
  loadsDeduped: number; // loads left after singleflight
  localLoads: number; // successful loader calls
  localLoadErrs: number; // failed loader calls (not found included)
  serverRequests: number; // gets that came from peers (counted in gets too)
}

/** noStats are the counters of a new group: a literal, so every group's counters share one fast shape. */
export function noStats(): GroupStats {
  return {
    gets: 0,
    cacheHits: 0,
    peerLoads: 0,
    peerErrors: 0,
    loads: 0,
    loadsDeduped: 0,
    localLoads: 0,
    localLoadErrs: 0,
    serverRequests: 0,
  };
}

/** GetResult is a value with where it came from. */
export interface GetResult {
  value: ByteView;
  /** expiresAt is the Unix ms after which the value is no longer served; 0 = never. */
  expiresAt: number;
  /** written is when a written value was written (Unix ms at the writing node); absent for a loaded one. */
  written?: number;
  from: "main" | "hot" | "peer" | "loader";
  /**
   * minuteQps is this node's measured request rate of key (per second), on the answers it gives peers as the key's
   * owner.
   */
  minuteQps?: number;
}

/** PeerFailure names a peer that a write could not reach, and why. */
export interface PeerFailure {
  peer: string;
  error: string;
}

/** WriteResult tells which peers a cluster-wide set or remove could not reach (empty when all were). */
export interface WriteResult {
  failed: PeerFailure[];
}
