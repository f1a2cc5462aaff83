import { PeerService } from "../../cluster/peer-service.ts";
import { DEFAULT_PEER_TIMEOUT } from "../../cluster/peer-set.ts";
import type { PeerTransport } from "../../cluster/transport.ts";
import { DEFAULT_MAX_VALUE_BYTES } from "../../core/limits.ts";
import { GrpcPeer } from "./client.ts";
import { listenGrpc } from "./server.ts";

/** GrpcTransportOptions configure the gRPC peer transport (geecachepb.GroupCache over HTTP/2). */
export interface GrpcTransportOptions {
  /** timeout bounds one peer call in ms and is sent as its grpc-timeout. */
  timeout?: number;
  /** token is the peers' shared secret, sent as `authorization: Bearer` metadata and required by the listener. */
  token?: string;
  /** maxValueBytes bounds a value written by a peer's Set. */
  maxValueBytes?: number;
  /** tls.ca is trusted when speaking to grpcs:// peers. */
  tls?: { ca?: string };
  /** bootId names this process in its answers to peers (geecache-boot metadata); default a new random id. */
  bootId?: string;
  /** refused is told of each peer request refused for its token. */
  refused?: (what: string) => void;
}

/** GrpcTransport is the gRPC peer transport with its settings checked and filled in. */
export interface GrpcTransport extends PeerTransport {
  readonly timeout: number;
}

/**
 * grpcTransport speaks to grpc:// and grpcs:// peers, one multiplexed HTTP/2 session each, and
 * answers them on a listener of its own (`listen`) serving geecachepb.GroupCache's Get, Set and
 * Remove, which any client generated from proto/geecache.proto can call.
 */
export function grpcTransport(options: GrpcTransportOptions = {}): GrpcTransport {
  const timeout = options.timeout ?? DEFAULT_PEER_TIMEOUT;
  if (!(timeout > 0)) throw new RangeError(`gRPC transport timeout must be > 0 ms, got ${timeout}`);
  const { token } = options;
  if (token !== undefined && (typeof token !== "string" || token === "" || /\s/.test(token))) {
    throw new TypeError("gRPC transport token must be a non-empty string without spaces (or left out for no token)");
  }
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  if (!(Number.isInteger(maxValueBytes) && maxValueBytes > 0))
    throw new RangeError(`gRPC transport maxValueBytes must be a whole number > 0, got ${maxValueBytes}`);
  const bootId = options.bootId ?? crypto.randomUUID();
  return {
    name: "grpc",
    bootId,
    timeout,
    accepts: (url) => url.startsWith("grpc://") || url.startsWith("grpcs://"),
    client: (url, address) => new GrpcPeer({ url, address, timeout, token, tls: options.tls }),
    listen: (groups, listen) =>
      listenGrpc(new PeerService(groups, { maxValueBytes }), listen, { token, bootId, refused: options.refused }),
  };
}
