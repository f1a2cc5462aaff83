import http2, { type ClientHttp2Session } from "node:http2";
import type { TransportClient } from "../../cluster/transport.ts";
import type { ByteView } from "../../core/byteview.ts";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { plainError } from "../../core/plain-error.ts";
import { decodeResponse, type PeerResponse } from "../../core/protocol.ts";
import { formatDuration } from "../../core/units.ts";
import type { SetMode } from "../../group/peers.ts";
import { decodeGetManyResponse, encodeGetManyRequest } from "./batch.ts";
import { frame, parseUnary } from "./frame.ts";
import { encodePurgeRequest, encodeRequest, encodeSetRequest } from "./messages.ts";
import {
  BOOT_METADATA,
  COPY_METADATA,
  OFFER_METADATA,
  PEEK_METADATA,
  SERVICE_PATH,
  WRITTEN_METADATA,
} from "./metadata.ts";
import { decodeGrpcMessage, errorFromStatus, formatGrpcTimeout } from "./status.ts";

/**
 * MAX_RESPONSE_BYTES bounds one answer: a source's values are not bounded by maxValueBytes, so this only stops a broken
 * peer.
 */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** GrpcPeerOptions configure the client of one gRPC peer. */
export interface GrpcPeerOptions {
  /** url names the peer on the ring: grpc://host:port or grpcs://host:port. */
  url: string;
  /** address is where the peer is reached when it differs from url (default: url). */
  address?: string;
  /** timeout bounds each call in ms; it is also sent as grpc-timeout. */
  timeout: number;
  token?: string;
  /** tls.ca is trusted for grpcs:// peers (beside the system's roots). */
  tls?: { ca?: string };
}

const { NGHTTP2_CANCEL } = http2.constants;
const PEEK = { [PEEK_METADATA]: "1" };

/**
 * GrpcPeer calls one peer's geecachepb.GroupCache over a single multiplexed HTTP/2 session, opened
 * on first use and opened again after a GOAWAY or a dropped connection. NOT_FOUND is an answer
 * about the key; every other status, a timeout or a broken stream is PEER_FAILED; the caller's
 * abort is ABORTED and cancels the stream.
 */
const COPY = { [COPY_METADATA]: "1" };
const OFFER = { [OFFER_METADATA]: "1" };

export class GrpcPeer implements TransportClient {
  readonly url: string;
  readonly #authority: string;
  readonly #timeout: number;
  readonly #grpcTimeout: string;
  readonly #auth: string | undefined;
  readonly #connectOptions: http2.SecureClientSessionOptions;
  #session: ClientHttp2Session | undefined;
  #extended: boolean | undefined; // an answer carried a boot id (a geecache node) or not; undefined before any

  constructor(options: GrpcPeerOptions) {
    this.url = options.url;
    const address = options.address ?? options.url;
    this.#authority = address.replace(/^grpcs:/, "https:").replace(/^grpc:/, "http:");
    this.#timeout = options.timeout;
    this.#grpcTimeout = formatGrpcTimeout(options.timeout);
    this.#auth = options.token ? `Bearer ${options.token}` : undefined;
    this.#connectOptions = options.tls?.ca ? { ca: options.tls.ca } : {};
  }

  /** get asks the peer's Get for group/key (answered from its main cache or source, never forwarded). */
  async get(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse> {
    const meta: { boot?: string } = {};
    const body = await this.#unary("Get", encodeRequest(group, key), signal, undefined, meta);
    try {
      const res = decodeResponse(body);
      this.#extended = meta.boot !== undefined;
      if (meta.boot !== undefined) res.boot = meta.boot;
      return res;
    } catch (err) {
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed Response: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  /** peek asks for the peer's cached copy only (Get with geecache-peek metadata): undefined when it holds none. */
  async peek(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined> {
    let body: Uint8Array;
    try {
      body = await this.#unary("Get", encodeRequest(group, key), signal, PEEK);
    } catch (err) {
      if (err instanceof GeeCacheError && err.code === "NOT_FOUND") return undefined;
      throw err;
    }
    try {
      return decodeResponse(body);
    } catch (err) {
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed Response: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * probe makes one call that any gRPC answer completes (an empty Get is INVALID_ARGUMENT): the peer
   * is alive; it resolves with the peer's boot id when the answer carried one.
   */
  async probe(signal?: AbortSignal): Promise<string | undefined> {
    const meta: { boot?: string; anyStatus?: boolean } = { anyStatus: true };
    await this.#unary("Get", encodeRequest("", ""), signal, undefined, meta);
    this.#extended = meta.boot !== undefined;
    return meta.boot;
  }

  /** extended: an answer of this peer carried a boot id, so it is a geecache node (see TransportClient). */
  get extended(): boolean | undefined {
    return this.#extended;
  }

  /** getMany asks for many keys in one GetMany call, each answered locally by the peer: one entry per key. */
  async getMany(
    group: string,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, PeerResponse | GeeCacheError>> {
    const body = await this.#unary("GetMany", encodeGetManyRequest(group, keys), signal);
    try {
      return decodeGetManyResponse(body, keys, this.url);
    } catch (err) {
      throw new GeeCacheError(
        "PEER_FAILED",
        `peer ${this.url} sent a malformed GetManyResponse: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** set stores value in the peer's main cache (Set). */
  async set(
    group: string,
    key: string,
    value: ByteView,
    expiresAt: number,
    signal?: AbortSignal,
    mode?: SetMode,
    written?: number,
  ): Promise<void> {
    const mark = mode === "copy" ? COPY : mode === "offer" ? OFFER : undefined;
    const extra = written ? { ...mark, [WRITTEN_METADATA]: String(written) } : mark;
    await this.#unary("Set", encodeSetRequest(group, key, value, expiresAt), signal, extra);
  }

  /** remove drops the key from the peer's caches (Remove). */
  async remove(group: string, key: string, signal?: AbortSignal): Promise<void> {
    await this.#unary("Remove", encodeRequest(group, key), signal);
  }

  /** purge drops every entry of group on the peer (Purge) at the purge number generation. */
  async purge(group: string, generation: number, signal?: AbortSignal): Promise<void> {
    await this.#unary("Purge", encodePurgeRequest(group, generation), signal);
  }

  /** close ends the session once its calls in flight are done; a later call opens a new one. */
  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  #connect(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.#authority, this.#connectOptions);
    const forget = () => {
      if (this.#session === session) this.#session = undefined;
    };
    session.on("error", forget); // the calls on it fail on their own streams
    session.on("goaway", forget); // the peer is going away: new calls take a new session
    session.on("close", forget);
    session.unref(); // an idle session keeps no process alive
    this.#session = session;
    return session;
  }

  #unary(
    method: string,
    message: Uint8Array,
    signal: AbortSignal | undefined,
    extra?: Record<string, string>,
    meta?: { boot?: string; anyStatus?: boolean },
  ): Promise<Uint8Array> {
    if (signal?.aborted)
      return Promise.reject(
        new GeeCacheError("ABORTED", `request to peer ${this.url} was aborted`, { cause: signal.reason }),
      );
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
    let stream: http2.ClientHttp2Stream;
    try {
      const headers: http2.OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": SERVICE_PATH + method,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": this.#grpcTimeout,
      };
      if (this.#auth) headers.authorization = this.#auth;
      if (extra) Object.assign(headers, extra);
      stream = this.#connect().request(headers);
    } catch (err) {
      this.#session = undefined;
      return Promise.reject(new GeeCacheError("PEER_FAILED", `peer ${this.url}: ${plainError(err)}`, { cause: err }));
    }
    let settled = false;
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage = "";
    const chunks: Uint8Array[] = [];
    let size = 0;
    const settle = (err: GeeCacheError | undefined, body?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (err) {
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
        reject(err);
      } else resolve(body!);
    };
    const fail = (why: string, cause?: unknown) =>
      settle(new GeeCacheError("PEER_FAILED", `peer ${this.url}: ${why}`, { cause }));
    const onAbort = () =>
      settle(new GeeCacheError("ABORTED", `request to peer ${this.url} was aborted`, { cause: signal!.reason }));
    const timer = setTimeout(() => fail(`timed out after ${formatDuration(this.#timeout)}`), this.#timeout);
    signal?.addEventListener("abort", onAbort, { once: true });
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] === undefined) return;
      grpcStatus = String(h["grpc-status"]);
      grpcMessage = decodeGrpcMessage(String(h["grpc-message"] ?? ""));
    };
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      if (meta && h[BOOT_METADATA] !== undefined) meta.boot = String(h[BOOT_METADATA]);
      readStatus(h); // a trailers-only answer carries its status here
    });
    stream.on("trailers", readStatus);
    stream.on("data", (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES + 5) return fail(`answer over ${MAX_RESPONSE_BYTES} bytes`);
      chunks.push(chunk);
    });
    stream.on("error", (err) => fail(plainError(err), err));
    stream.on("close", () => {
      if (settled) return;
      if (httpStatus !== 200)
        return fail(
          httpStatus
            ? `answered HTTP ${httpStatus}, not gRPC`
            : `stream closed (code ${stream.rstCode}) before an answer`,
        );
      if (grpcStatus === undefined) return fail(`stream ended without a grpc-status (code ${stream.rstCode})`);
      if (meta?.anyStatus) return settle(undefined, new Uint8Array(0));
      if (grpcStatus !== "0") return settle(errorFromStatus(Number(grpcStatus), grpcMessage, this.url));
      const parsed = parseUnary(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), MAX_RESPONSE_BYTES);
      if (!parsed.ok) return fail(`malformed answer: ${parsed.detail}`);
      settle(undefined, parsed.message);
    });
    stream.end(frame(message));
    return promise;
  }
}
