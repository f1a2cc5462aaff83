import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { PeerService } from "../../cluster/peer-service.ts";
import type { Listening, ListenOptions } from "../../cluster/transport.ts";
import { authorizationMatches } from "../../core/bearer.ts";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { MAX_KEY_BYTES } from "../../core/limits.ts";
import { encodeResponse } from "../../core/protocol.ts";
import type { GetResult } from "../../group/results.ts";
import { decodeGetManyRequest, encodeGetManyResponse } from "./batch.ts";
import { frame, parseUnary } from "./frame.ts";
import { decodePurgeRequest, decodeRequest, decodeSetRequest } from "./messages.ts";
import {
  BOOT_METADATA,
  COPY_METADATA,
  OFFER_METADATA,
  PEEK_METADATA,
  SERVICE_PATH,
  WRITTEN_METADATA,
} from "./metadata.ts";
import { encodeGrpcMessage, GrpcStatus, grpcStatusOf, parseGrpcTimeout } from "./status.ts";

/**
 * REQUEST_OVERHEAD_BYTES is what a SetRequest may hold beside its value: the longest key, a group name, tags and
 * expiry.
 */
const REQUEST_OVERHEAD_BYTES = MAX_KEY_BYTES + 1024;

/** GrpcServerOptions configure the answers to gRPC callers. */
export interface GrpcServerOptions {
  /** token, when set, is required as `authorization: Bearer <token>` metadata. */
  token?: string;
  /** bootId is sent as geecache-boot metadata with every answer: a new one tells peers this process restarted. */
  bootId?: string;
  /** refused is told of each call refused for its token (the node logs them, a few at a time). */
  refused?: (what: string) => void;
}

type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
/** Method answers one call; signal() is made only when asked for (a cache hit never needs one). */
type Method = (
  body: Uint8Array,
  signal: () => AbortSignal,
  headers: IncomingHttpHeaders,
) => Uint8Array | Promise<Uint8Array>;

const EMPTY = new Uint8Array(0);
/**
 * MAX_TIMER_MS is the longest timer setTimeout keeps (a longer one fires at once): a grpc-timeout past it (up to
 * 99999999H) is no deadline.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * grpcStreamHandler answers geecachepb.GroupCache's unary calls through service: Get loads locally
 * and is never forwarded (a peer request, as on the HTTP peer route), with geecache-peek metadata
 * only a cached copy; Set stores (geecache-copy: as a copy), Remove drops the key, GetMany answers
 * many keys. Every failure is a gRPC status; nothing a caller sends can throw out of it.
 */
export function grpcStreamHandler(service: PeerService, options: GrpcServerOptions): StreamHandler {
  const { token, bootId } = options;
  const maxBody = service.maxValueBytes + REQUEST_OVERHEAD_BYTES;
  const methods: Record<string, Method> = {
    [`${SERVICE_PATH}Get`]: (body, signal, headers) => {
      const { group, key } = decodeRequest(body);
      if (headers[PEEK_METADATA] !== undefined) return answer(service.peek(group, key));
      const pending = service.get(group, key, {
        get signal() {
          return signal();
        },
      });
      if (Bun.peek.status(pending) === "fulfilled") return answer(Bun.peek(pending) as GetResult);
      return pending.then(answer);
    },
    [`${SERVICE_PATH}Set`]: (body, _signal, headers) => {
      const { group, key, value, expiresAt } = decodeSetRequest(body);
      service.set(
        group,
        key,
        value,
        expiresAt,
        headers[COPY_METADATA] !== undefined ? "copy" : headers[OFFER_METADATA] !== undefined ? "offer" : undefined,
        Number(headers[WRITTEN_METADATA] ?? 0) || 0,
      );
      return EMPTY;
    },
    // GetMany answers every key locally (a peer's batch, never forwarded), one entry per key in order.
    [`${SERVICE_PATH}GetMany`]: (body, signal) => {
      const { group, keys } = decodeGetManyRequest(body);
      const context = {
        get signal() {
          return signal();
        },
      };
      return service.getMany(group, keys, context).then(encodeGetManyResponse);
    },
    [`${SERVICE_PATH}Remove`]: (body) => {
      const { group, key } = decodeRequest(body);
      service.remove(group, key);
      return EMPTY;
    },
    [`${SERVICE_PATH}Purge`]: (body) => {
      const { group, generation } = decodePurgeRequest(body);
      if (!(generation >= 1)) throw new GeeCacheError("INVALID_ARGUMENT", "a purge needs its purge number (1 or more)");
      service.purge(group, generation);
      return EMPTY;
    },
  };

  return (stream, headers) => {
    stream.on("error", () => {}); // a caller's reset or a broken connection ends this call only
    if (headers[":method"] !== "POST" || !String(headers["content-type"] ?? "").startsWith("application/grpc")) {
      return plain(
        stream,
        headers[":method"] !== "POST" ? 405 : 415,
        "this port serves gRPC (geecachepb.GroupCache): POST with content-type application/grpc",
      );
    }
    if (token !== undefined && !authorizationMatches(headers.authorization, token)) {
      options.refused?.(`refused a gRPC call without the cluster token: ${String(headers[":path"])}`);
      return status(
        stream,
        GrpcStatus.UNAUTHENTICATED,
        "the gRPC service needs the cluster token: authorization: Bearer <token>",
      );
    }
    const method = methods[String(headers[":path"])];
    if (!method)
      return status(
        stream,
        GrpcStatus.UNIMPLEMENTED,
        `unknown method ${headers[":path"]}; geecachepb.GroupCache has Get, Set, Remove and GetMany`,
      );

    // The deadline and the caller's going away become a signal only for a call that has to wait (a miss).
    let abort: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let expired = false;
    const signal = () => {
      if (abort) return abort.signal;
      const a = (abort = new AbortController());
      const deadline = parseGrpcTimeout(headers["grpc-timeout"] as string | undefined);
      if (deadline !== undefined && deadline < MAX_TIMER_MS) {
        timer = setTimeout(() => {
          expired = true;
          a.abort(new GeeCacheError("ABORTED", "deadline exceeded"));
        }, deadline);
      }
      stream.once("close", () => {
        clearTimeout(timer);
        a.abort(); // the caller went away: nobody waits for the answer
      });
      return a.signal;
    };
    const chunks: Uint8Array[] = [];
    let size = 0;
    let over = false; // answered already: the rest of the body is read and dropped
    stream.on("data", (chunk: Uint8Array) => {
      if (over) return;
      size += chunk.length;
      if (size <= maxBody + 5) return void chunks.push(chunk);
      over = true;
      chunks.length = 0;
      status(stream, GrpcStatus.RESOURCE_EXHAUSTED, `gRPC request over the limit of ${maxBody} bytes`);
    });
    stream.once("end", () => {
      if (over) return;
      const parsed = parseUnary(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), maxBody);
      if (!parsed.ok) {
        const code =
          parsed.problem === "compressed"
            ? GrpcStatus.UNIMPLEMENTED
            : parsed.problem === "too-large"
              ? GrpcStatus.RESOURCE_EXHAUSTED
              : GrpcStatus.INTERNAL;
        return status(stream, code, parsed.detail);
      }
      const fail = (err: unknown) => {
        if (err instanceof RangeError)
          return status(stream, GrpcStatus.INVALID_ARGUMENT, `malformed request: ${err.message}`);
        status(stream, expired ? GrpcStatus.DEADLINE_EXCEEDED : grpcStatusOf(err), errorMessage(err));
      };
      try {
        const out = method(parsed.message, signal, headers);
        if (out instanceof Uint8Array) ok(stream, out, bootId);
        else out.then((m) => ok(stream, m, bootId), fail).finally(() => clearTimeout(timer));
      } catch (err) {
        fail(err);
      }
    });
  };
}

/**
 * listenGrpc opens an HTTP/2 listener (h2c, or TLS with tls) serving geecachepb.GroupCache through
 * service. Its URL is grpc://host:port (grpcs:// with TLS), the port the one it got for port 0.
 */
export async function listenGrpc(
  service: PeerService,
  listen: ListenOptions,
  options: GrpcServerOptions,
): Promise<Listening> {
  const server = listen.tls
    ? http2.createSecureServer({ cert: listen.tls.cert, key: listen.tls.key })
    : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => sessions.delete(session));
  });
  server.on("sessionError", () => {});
  server.on("error", () => {});
  const handler = grpcStreamHandler(service, options);
  const { refuse } = listen;
  server.on(
    "stream",
    refuse
      ? (stream, headers) => {
          const refused = refuse(stream.session?.socket?.remoteAddress);
          if (refused) status(stream, grpcStatusOf(refused), refused.message);
          else handler(stream, headers);
        }
      : handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : listen.port;
  const host =
    listen.host === "0.0.0.0" || listen.host === "::"
      ? "127.0.0.1"
      : listen.host.includes(":")
        ? `[${listen.host}]`
        : listen.host;
  return {
    url: `${listen.tls ? "grpcs" : "grpc"}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // GOAWAY lets calls in flight finish; sessions still open after a grace period are cut.
        const grace = setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, 1000);
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        for (const s of sessions) s.close();
      }),
  };
}

function answer(r: GetResult): Uint8Array {
  return encodeResponse(r.value, r.expiresAt, r.minuteQps);
}

function ok(stream: ServerHttp2Stream, message: Uint8Array, bootId?: string): void {
  if (stream.destroyed || stream.headersSent) return;
  const headers: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": "application/grpc" };
  if (bootId) headers[BOOT_METADATA] = bootId;
  stream.respond(headers, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(frame(message));
}

/** status answers with a trailers-only response: the gRPC status in the headers and no message. */
function status(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(code),
      "grpc-message": encodeGrpcMessage(message),
    },
    { endStream: true },
  );
}

function plain(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ":status": code, "content-type": "text/plain; charset=utf-8" });
  stream.end(`${message}\n`);
}
