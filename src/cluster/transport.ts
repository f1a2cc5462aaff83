import { GeeCacheError } from "../core/errors.ts";
import type { PeerClient } from "../group/peers.ts";
import type { MemberState, PeerGroups } from "./peer-service.ts";

/** Handler is what every HTTP route is: a function of a Request. */
export type Handler = (req: Request) => Response | Promise<Response>;

/**
 * TransportClient is a PeerClient (get, and optionally set, remove and getMany: many keys in one request) that a
 * PeerSet can close once its peer has left the ring.
 */
export interface TransportClient extends PeerClient {
  /** announce tells the peer that the node named self leaves or joins the ring (geecache peers only: see extended). */
  announce?(self: string, state: MemberState, boot: string, signal?: AbortSignal): Promise<void>;
  /** unroutable tells the keys this transport cannot carry; the ring then has this node load them itself. */
  unroutable?(key: string): boolean;
  /**
   * probe checks that the peer answers at all (any answer will do); peer health calls it in the
   * background and while the peer is down. It resolves with the peer's boot id when the peer told
   * it (a geecache node), which tells a restart.
   */
  probe?(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * extended tells whether the peer has shown it is a geecache node (an answer carried its boot id):
   * true, false (it answered without one: Go GeeCache or groupcache), or undefined before any answer
   * (probe it first). Only a true peer gets the extensions: peeks, membership announcements.
   */
  readonly extended?: boolean | undefined;
  /**
   * status asks the peer for its status report (a geecache node's `/status.json`, parsed). A
   * transport that cannot reach the peer's status leaves it out: the status page then shows the
   * peer without detail. Neither counted in peer health nor timed in metrics.
   */
  status?(signal?: AbortSignal): Promise<unknown>;
  /**
   * lookup asks the peer what it holds of group/key without loading it (a geecache node's
   * `/status/lookup` report for that key, parsed); authorization, when given, is sent in place of
   * the client's own (the API read token of the asking caller). Optional, as status.
   */
  lookup?(group: string, key: string, signal?: AbortSignal, authorization?: string): Promise<unknown>;
  /** close frees the client's connections; requests already in flight may finish. */
  close?(): void | Promise<void>;
}

/** PeerRoutes are a transport's answers to other nodes, mounted on the node's own HTTP listener under prefix. */
export interface PeerRoutes {
  prefix: string;
  handler: Handler;
}

/** Listening is a transport's own listener once it is open. */
export interface Listening {
  /** url is where peers reach it, e.g. grpc://127.0.0.1:9001. */
  url: string;
  close(): Promise<void>;
}

/** ListenOptions tell a transport with a listener of its own where to open it. */
export interface ListenOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  /**
   * refuse, when set, is asked of each caller's address: an error refuses it (protected mode), undefined lets it in.
   */
  refuse?: (address: string | undefined) => GeeCacheError | undefined;
}

/**
 * PeerTransport is how nodes talk to each other: `client` speaks to one peer, and a node answers
 * its peers either through `routes` on its HTTP listener or through a listener of its own
 * (`listen`). A transport implements one of the two.
 */
export interface PeerTransport {
  /** name is shown in logs and on the status page ("http", "grpc"). */
  readonly name: string;
  /** bootId names this process in the transport's answers to peers: a new one tells them it restarted. */
  readonly bootId?: string;
  /** accepts tells whether this transport speaks to the peer at url (by its scheme). */
  accepts(url: string): boolean;
  /** client makes the client of the peer named url on the ring, reached at address (default: url). */
  client(url: string, address?: string): TransportClient;
  /** routes answers peers on the node's HTTP listener from groups (a Registry), through a PeerService. */
  routes?(groups: PeerGroups): PeerRoutes;
  /** listen answers peers on a listener of the transport's own from groups (a Registry), through a PeerService. */
  listen?(groups: PeerGroups, options: ListenOptions): Promise<Listening>;
  /** close frees what the transport holds (not the clients: the PeerSet closes those). */
  close?(): void | Promise<void>;
}

/** speakerOf returns the first transport that speaks to url; none is an INVALID_ARGUMENT GeeCacheError. */
export function speakerOf(transports: readonly PeerTransport[], url: string): PeerTransport {
  const t = transports.find((tr) => tr.accepts(url));
  if (t) return t;
  const have = transports.map((tr) => tr.name).join(", ");
  throw new GeeCacheError("INVALID_ARGUMENT", `no transport speaks to peer ${url} (have ${have})`);
}
