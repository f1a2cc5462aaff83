import type { ByteView } from "../core/byteview.ts";
import type { GeeCacheError } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";

/** SetMode says how a peer stores a value it is sent: as a copy, or as an offer it keeps only if it has none. */
export type SetMode = "copy" | "offer";

/**
 * PeerClient talks to one remote node: `get` is required; `set` and `remove` make cluster-wide
 * writes possible. The group only ever sees this contract, never a transport.
 */
export interface PeerClient {
  /** url names the peer, as it appears on the ring. */
  readonly url: string;
  /**
   * get resolves the peer's value, rejects with a NOT_FOUND GeeCacheError when the key does not exist, or with any
   * other error when the peer failed.
   */
  get(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse>;
  /**
   * set stores the value in the peer's main cache (the peer owns the key); with mode "copy" as a
   * copy it keeps for when the owner is down, with "offer" only if the peer holds no value of its
   * own for key that was written later (a handover). expiresAt is Unix ms, 0 = never; written is
   * when the value was written (Unix ms at the node that took the write), 0 for a loaded one.
   */
  set?(
    group: string,
    key: string,
    value: ByteView,
    expiresAt: number,
    signal?: AbortSignal,
    mode?: SetMode,
    written?: number,
  ): Promise<void>;
  /**
   * purge drops every entry of group on the peer, unless it has purged at generation (the group's
   * purge number) or later already.
   */
  purge?(group: string, generation: number, signal?: AbortSignal): Promise<void>;
  /** remove drops the key from the peer's caches. */
  remove?(group: string, key: string, signal?: AbortSignal): Promise<void>;
  /** peek asks the peer for its cached copy only (never loaded, never forwarded): undefined when it has none. */
  peek?(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined>;
  /**
   * getMany asks the peer for many keys in one request, answered locally by the peer: one entry
   * per key, a PeerResponse or the key's GeeCacheError (NOT_FOUND, LOAD_FAILED, ...). It rejects
   * only when the request as a whole failed.
   */
  getMany?(
    group: string,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, PeerResponse | GeeCacheError>>;
}

/** PeerPicker names the peer that owns a key: undefined when this node owns it (or has no peers). */
export interface PeerPicker {
  pickPeer(key: string): PeerClient | undefined;
  /** remotePeers lists every peer but this node, for writes that reach the whole cluster. */
  remotePeers?(): PeerClient[];
  /**
   * peekPrevious asks the node that owned key before the last change of membership for its cached
   * copy (handoff): undefined when there is no such node, it has no copy, or it failed. A new owner
   * calls it before loading, so a join does not stampede the source.
   */
  peekPrevious?(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined>;
  /**
   * copyHolders names where copies of a written value of key live besides its owner: the next
   * nodes on the ring (`self` stands for this node). Empty when each value lives on its owner only.
   */
  copyHolders?(key: string): Array<PeerClient | "self">;
}
