import type { Socket, TCPSocketListener } from "bun";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { DEFAULT_MAX_BATCH_KEYS, DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../../core/limits.ts";
import type { Registry } from "../../group/registry.ts";
import type { RespMetrics } from "../../observability/metrics/resp-metrics.ts";
import type { WriteFailure } from "../api.ts";
import type { NodeConfig } from "../config.ts";
import type { Protection } from "../protected-mode.ts";
import { CommandTable } from "./commands.ts";
import { RespConnection } from "./connection.ts";
import type { RespContext } from "./context.ts";
import { DEFAULT_RESP_MAX_CLIENTS, DEFAULT_RESP_TIMEOUT } from "./settings.ts";

/** FRAME_SLACK is what a frame may hold besides its value or keys: the command, options, headers. */
const FRAME_SLACK = 64 * 1024;

const MAX_CLIENTS_REACHED = "-ERR max number of clients reached\r\n";

/** RespServerOptions configure a RESP listener. */
export interface RespServerOptions {
  registry: Registry;
  metrics: RespMetrics;
  host: string;
  /** port to listen on; 0 picks a free one. */
  port: number;
  owner?: (key: string) => string;
  maxKeyBytes?: number;
  maxValueBytes?: number;
  maxBatchKeys?: number;
  apiToken?: string;
  apiReadToken?: string;
  protection?: Protection;
  onWriteFailed?: (failure: WriteFailure) => void;
  maxClients?: number;
  /** timeout (ms) closes a connection stalled in the middle of a frame. */
  timeout?: number;
  /** tls makes the listener rediss://: PEM certificate chain and key. */
  tls?: { cert: string; key: string };
}

/** RespServer is a running RESP listener. */
export interface RespServer {
  /** url is redis://host:port (rediss:// with TLS). */
  readonly url: string;
  readonly port: number;
  /** stop stops accepting, lets each connection finish the replies it owes, and resolves once all are closed. */
  stop(): Promise<void>;
}

/**
 * startResp opens a RESP2 listener on Bun's TCP sockets that answers from the registry's groups.
 * A frame may hold one value (--max-value-bytes) or a batch of keys (--max-batch-keys of
 * --max-key-bytes) and FRAME_SLACK besides; a larger one is a protocol error.
 */
export function startResp(o: RespServerOptions): RespServer {
  const maxKeyBytes = o.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValueBytes = o.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  const maxBatchKeys = o.maxBatchKeys ?? DEFAULT_MAX_BATCH_KEYS;
  const maxClients = o.maxClients ?? DEFAULT_RESP_MAX_CLIENTS;
  const ctx: RespContext = {
    registry: o.registry,
    owner: o.owner,
    maxKeyBytes,
    maxValueBytes,
    maxBatchKeys,
    apiToken: o.apiToken,
    apiReadToken: o.apiReadToken,
    protection: o.protection,
    onWriteFailed: o.onWriteFailed,
    metrics: o.metrics,
    maxClients,
    port: 0,
    startedAt: Date.now(),
  };
  const options = {
    ctx,
    table: new CommandTable(o.metrics),
    maxFrameBytes: Math.max(maxValueBytes + maxKeyBytes, maxBatchKeys * (maxKeyBytes + 16)) + FRAME_SLACK,
    timeout: o.timeout ?? DEFAULT_RESP_TIMEOUT,
    protocolErrors: o.metrics.protocolErrors(),
  };
  const connections = new Set<RespConnection>();
  const authed = o.apiToken === undefined && o.apiReadToken === undefined;
  let nextId = 1;
  let stopping = false;
  const allClosed = Promise.withResolvers<void>();
  const listener: TCPSocketListener<RespConnection | undefined> = Bun.listen<RespConnection | undefined>({
    hostname: o.host,
    port: o.port,
    ...(o.tls ? { tls: o.tls } : {}),
    socket: {
      binaryType: "buffer",
      open(socket) {
        if (connections.size >= maxClients || stopping) {
          o.metrics.rejected++;
          socket.write(MAX_CLIENTS_REACHED);
          socket.end();
          return;
        }
        const client = {
          id: nextId++,
          address: socket.remoteAddress,
          name: undefined,
          authed,
          readOnly: false,
          quit: false,
          writing: 0,
        };
        const conn = new RespConnection(socket as Socket<RespConnection>, client, options);
        socket.data = conn;
        connections.add(conn);
        o.metrics.connections++;
        o.metrics.connectionsTotal++;
      },
      data(socket, chunk) {
        socket.data?.data(chunk);
      },
      drain(socket) {
        socket.data?.drain();
      },
      close(socket) {
        const conn = socket.data;
        if (!conn || !connections.delete(conn)) return;
        conn.closed();
        o.metrics.connections--;
        if (stopping && connections.size === 0) allClosed.resolve();
      },
      error() {}, // a reset connection closes; close() counts it
    },
  });
  ctx.port = listener.port;
  o.metrics.enabled = true;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `${o.tls ? "rediss" : "redis"}://${host}:${listener.port}`,
    port: listener.port,
    stop: async () => {
      if (!stopping) {
        stopping = true;
        listener.stop(false);
        if (connections.size === 0) allClosed.resolve();
        for (const c of connections) c.shutdown();
      }
      await allClosed.promise;
    },
  };
}

/** respListener starts the RESP listener a node's settings ask for (undefined without --resp-port); it throws a one-line GeeCacheError when it cannot listen. */
export function respListener(
  config: NodeConfig,
  parts: Pick<RespServerOptions, "registry" | "owner" | "metrics" | "protection" | "onWriteFailed">,
): RespServer | undefined {
  if (config.respPort === undefined) return undefined;
  try {
    return startResp({
      ...parts,
      host: config.host,
      port: config.respPort,
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
      maxBatchKeys: config.maxBatchKeys,
      apiToken: config.apiToken,
      apiReadToken: config.apiReadToken,
      maxClients: config.respMaxClients,
      timeout: config.respTimeout,
      tls: config.tls,
    });
  } catch (err) {
    throw new GeeCacheError(
      "INVALID_ARGUMENT",
      `cannot listen for RESP on ${config.host}:${config.respPort}: ${errorMessage(err)}`,
      { cause: err, flag: "resp-port" },
    );
  }
}
