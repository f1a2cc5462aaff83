import type { RingOptions } from "../core/consistent-hash.ts";
import type { HealthOptions, PeerHealthState } from "./health.ts";
import type { PeerObserver } from "./observe.ts";
import type { PeerTransport, TransportClient } from "./transport.ts";

/** DEFAULT_COPIES: a written value lives on its owner only unless told otherwise. */
export const DEFAULT_COPIES = 1;

/** DEFAULT_PEER_TIMEOUT bounds one peer request: 2 s. */
export const DEFAULT_PEER_TIMEOUT = 2000;

/** MembershipChange is what one setPeers call changed: the nodes that joined and left (self never appears). */
export interface MembershipChange {
  joined: string[];
  left: string[];
  /** peers is the whole ring after the change, self included. */
  peers: string[];
}

/** OutReason is why a listed peer is out of the ring a node routes by: seen down, or announced leaving. */
export type OutReason = "down" | "leaving";

/** ViewChange is one change of the ring a node routes by that membership did not make: a peer out or back. */
export interface ViewChange {
  peer: string;
  /** out is why the peer left the view, or undefined when it is back in. */
  out: OutReason | undefined;
  /** peers is the ring after the change. */
  peers: string[];
}

/** PeerSetOptions configure a node's view of its cluster. */
export interface PeerSetOptions extends RingOptions {
  /**
   * self is this node's URL exactly as the other nodes list it; it may be set later with setSelf (a node on port 0).
   */
  self?: string;
  /** transports speak to peers; each peer URL goes to the first transport that accepts it. */
  transports: readonly PeerTransport[];
  /** onPeerRequest is told how every request to a peer went and how long it took (metrics, peer health). */
  onPeerRequest?: PeerObserver;
  /** onChange is told of every change of membership (logs, metrics). */
  onChange?: (change: MembershipChange) => void;
  /** onView is told when a peer leaves the ring a node routes by (down, leaving) or comes back. */
  onView?: (change: ViewChange) => void;
  /** health marks a failing peer down and probes it (default on); false turns it off. */
  health?: HealthOptions | false;
  /**
   * copies is on how many nodes a written value lives: its owner and the next copies - 1 nodes of the ring (default 1).
   */
  copies?: number;
  /** handoffWindow (ms) is how long after a change a new owner peeks a key's previous owner; 0 = never. */
  handoffWindow?: number;
  now?: () => number;
}

/** Member is what a PeerSet keeps of one peer: its client, where it is reached, and its health. */
export interface Member {
  client: TransportClient;
  address: string;
  health?: () => PeerHealthState;
  revive?: () => void;
}
