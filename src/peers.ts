import type { PeerResponse } from "./protocol.ts";

/** PeerGetter fetches a group's value from one remote peer. */
export interface PeerGetter {
  /** url names the peer, as it appears on the ring. */
  readonly url: string;
  /** get resolves the peer's value, rejects with a NOT_FOUND GeeCacheError when the key does not exist, or with any other error when the peer failed. */
  get(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse>;
}

/** PeerPicker names the peer that owns a key: undefined when this node owns it (or has no peers). */
export interface PeerPicker {
  pickPeer(key: string): PeerGetter | undefined;
}
