import type { MemberState } from "../../cluster/peer-service.ts";
import type { TransportClient } from "../../cluster/transport.ts";
import type { ByteView } from "../../core/byteview.ts";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { plainError } from "../../core/plain-error.ts";
import { decodeResponse, encodeResponse, type PeerResponse } from "../../core/protocol.ts";
import { ERROR_CODE_HEADER } from "../../core/responses.ts";
import type { SetMode } from "../../group/peers.ts";
import { BATCH_CONTENT_TYPE, BATCH_SEGMENT, decodeAnswers, encodeKeys } from "./batch.ts";
import {
  BOOT_HEADER,
  COPY_HEADER,
  GENERATION_HEADER,
  MEMBER_SEGMENT,
  OFFER_HEADER,
  PEEK_HEADER,
  PURGE_SEGMENT,
  WRITTEN_HEADER,
} from "./headers.ts";
import { decodedOr, keyNotFound, oneByOne, type PeerEndpoint, peerBody, peerCall, peerJson } from "./request.ts";

const PEEK_HEADERS = { [PEEK_HEADER]: "1" };
const COPY_HEADERS = { [COPY_HEADER]: "1" };
const OFFER_HEADERS = { [OFFER_HEADER]: "1" };
const BATCH_HEADERS = { "content-type": BATCH_CONTENT_TYPE };
/** FALLBACK_PARALLEL is how many single GETs stand in for a batch at once, for a peer without the batch route. */
const FALLBACK_PARALLEL = 16;

/** HttpPeerOptions configures the client of one peer. */
export interface HttpPeerOptions {
  /** url is the peer's name as on the ring, e.g. `http://10.0.0.2:8001`. */
  url: string;
  /** address is where the peer is reached when it differs from its name (an SRV target's current IP). */
  address?: string;
  basePath: string;
  /** timeout bounds each request in ms. */
  timeout: number;
  /** headers are sent with every request (for example the peers' shared token). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  tls?: { ca?: string };
}

/**
 * HttpPeer fetches values from one peer over HTTP: `GET {url}{basePath}{group}/{key}` with both
 * parts percent-encoded, a protobuf body back. 404 means the key does not exist; anything else
 * that is not a 200 with a well-formed body is a peer failure (GeeCacheError PEER_FAILED).
 */
export class HttpPeer implements TransportClient {
  readonly url: string;
  readonly #prefix: string;
  readonly #origin: string;
  readonly #peer: PeerEndpoint;
  #batchless = false; // the peer answered the batch route 404/405: a Go peer
  #extended: boolean | undefined; // an answer carried a boot id (a geecache node) or not; undefined before any

  constructor(options: HttpPeerOptions) {
    this.url = options.url;
    this.#origin = (options.address ?? options.url).replace(/\/+$/, "");
    this.#prefix = this.#origin + options.basePath;
    this.#peer = {
      url: options.url,
      timeout: options.timeout,
      headers: { accept: "application/x-protobuf", ...options.headers },
      fetch: options.fetch ?? fetch,
      tls: options.tls,
    };
  }

  /**
   * unroutable: URLs collapse the path segments "." and ".." (even as %2E), so these two keys cannot
   * travel on the peer route; every node loads them itself rather than count a peer error each time.
   */
  unroutable(key: string): boolean {
    return key === "." || key === "..";
  }

  /** extended: an answer of this peer carried a boot id, so it is a geecache node (see TransportClient). */
  get extended(): boolean | undefined {
    return this.#extended;
  }

  /**
   * probe asks the peer's /healthz: any HTTP answer (a Go peer's 404 too) shows it is alive; a
   * geecache node's carries its boot id, which probe resolves with.
   */
  async probe(signal?: AbortSignal): Promise<string | undefined> {
    const { timeout: ms, fetch, headers, tls } = this.#peer;
    const timeout = AbortSignal.timeout(ms);
    try {
      const res = await fetch(`${this.#origin}/healthz`, {
        headers,
        redirect: "error",
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        ...(tls ? { tls } : {}),
      } as RequestInit);
      await res.body?.cancel();
      return this.#booted(res.headers.get(BOOT_HEADER));
    } catch (err) {
      throw new GeeCacheError(
        "PEER_FAILED",
        `peer ${this.url}: ${plainError(timeout.aborted ? timeout.reason : err, { timeout: ms })}`,
        { cause: err },
      );
    }
  }

  #booted(boot: string | null): string | undefined {
    this.#extended = boot !== null;
    return boot ?? undefined;
  }

  /** close does nothing: fetch pools connections per origin and frees idle ones itself. */
  close(): void {}

  /** urlFor returns the address of group/key on this peer. */
  urlFor(group: string, key: string): string {
    return `${this.#prefix}${encodeURIComponent(group)}/${encodeURIComponent(key)}`;
  }

  /** get fetches group/key; see the class comment for what each answer means. */
  async get(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse> {
    return this.#call("GET", group, key, undefined, signal, async (res) => {
      if (res.status === 404) {
        const text = (await res.text().catch(() => "")).trim().split("\n", 1)[0]!;
        // A peer that lacks the group or the route is misconfigured: that is not an answer about the key.
        if (!keyNotFound(res.headers.get(ERROR_CODE_HEADER), text))
          throw new GeeCacheError("PEER_FAILED", `peer ${this.url}: ${text || "404"}`);
        throw new GeeCacheError("NOT_FOUND", text || `key ${JSON.stringify(key)} not found on peer ${this.url}`);
      }
      const body = await peerBody(this.#peer, res);
      let decoded: PeerResponse;
      try {
        decoded = decodeResponse(body);
      } catch (err) {
        throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed body: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      const boot = this.#booted(res.headers.get(BOOT_HEADER));
      if (boot !== undefined) decoded.boot = boot;
      const generation = Number(res.headers.get(GENERATION_HEADER) ?? 0);
      if (generation > 0) decoded.generation = generation;
      return decoded;
    });
  }

  /** peek asks for the peer's cached copy only (header x-geecache-peek): undefined when it holds none. */
  async peek(group: string, key: string, signal?: AbortSignal): Promise<PeerResponse | undefined> {
    return this.#call(
      "GET",
      group,
      key,
      undefined,
      signal,
      async (res) => {
        if (res.status === 404 && res.headers.get(ERROR_CODE_HEADER) === "NOT_FOUND") {
          await res.body?.cancel();
          return undefined;
        }
        return decodedOr(this.url, "body", decodeResponse, await peerBody(this.#peer, res));
      },
      PEEK_HEADERS,
    );
  }

  /**
   * getMany asks for many keys in one `POST {basePath}_batch/{group}` (see batch.ts). A peer
   * without that route (Go GeeCache, groupcache: 404 or 405) is asked one GET per key from then on.
   */
  async getMany(
    group: string,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, PeerResponse | GeeCacheError>> {
    if (!this.#batchless) {
      // urlFor(BATCH_SEGMENT, group) is {basePath}_batch/{group}.
      const answers = await this.#call(
        "POST",
        BATCH_SEGMENT,
        group,
        encodeKeys(keys),
        signal,
        async (res) => {
          if ((res.status === 404 || res.status === 405) && res.headers.get(ERROR_CODE_HEADER) !== "UNKNOWN_GROUP") {
            await res.body?.cancel();
            return undefined;
          }
          const body = await peerBody(this.#peer, res);
          return decodedOr(this.url, "batch", (b) => decodeAnswers(b, keys, this.url), body);
        },
        BATCH_HEADERS,
      );
      if (answers) return answers;
      this.#batchless = true;
    }
    return oneByOne(keys, FALLBACK_PARALLEL, (key) => this.get(group, key, signal));
  }

  /** set stores value in the peer's main cache (PUT, protobuf body as a get's answer). */
  async set(
    group: string,
    key: string,
    value: ByteView,
    expiresAt: number,
    signal?: AbortSignal,
    mode?: SetMode,
    written?: number,
  ): Promise<void> {
    const extra = mode === "copy" ? COPY_HEADERS : mode === "offer" ? OFFER_HEADERS : undefined;
    const stamped = written ? { ...extra, [WRITTEN_HEADER]: String(written) } : extra;
    const body = encodeResponse(value, expiresAt);
    await this.#call("PUT", group, key, body, signal, (res) => peerBody(this.#peer, res), stamped);
  }

  /**
   * announce tells the peer that the node named self leaves the ring (or joins it again), with its
   * boot id: `POST {basePath}_member`. Only a geecache peer understands it; callers check extended.
   */
  announce(self: string, state: MemberState, boot: string, signal?: AbortSignal): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify({ peer: self, state, boot }));
    return this.#post(MEMBER_SEGMENT, body, { "content-type": "application/json" }, signal);
  }

  /** purge drops every entry of group on the peer (POST {basePath}_purge/{group}) at the purge number generation. */
  async purge(group: string, generation: number, signal?: AbortSignal): Promise<void> {
    // A Go peer would take the route for a get of another group: it is never sent one.
    if (this.#extended === undefined) await this.probe(signal);
    if (this.#extended !== true)
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url} is not a geecache node: it cannot purge`);
    const path = this.#encoded(() => `${PURGE_SEGMENT}/${encodeURIComponent(group)}`);
    return this.#post(path, undefined, { [GENERATION_HEADER]: String(generation) }, signal);
  }

  async #post(
    path: string,
    body: Uint8Array<ArrayBuffer> | undefined,
    extra: Record<string, string>,
    signal?: AbortSignal,
  ) {
    const headers = { ...this.#peer.headers, ...extra };
    await peerCall(this.#peer, this.#prefix + path, "POST", body, signal, (res) => peerBody(this.#peer, res), headers);
  }

  /** remove drops the key from the peer's caches (DELETE). */
  async remove(group: string, key: string, signal?: AbortSignal): Promise<void> {
    await this.#call("DELETE", group, key, undefined, signal, (res) => peerBody(this.#peer, res));
  }

  /** status asks the peer's `/status.json` (a geecache node's status report); a Go peer's 404 is PEER_FAILED. */
  status(signal?: AbortSignal): Promise<unknown> {
    return peerCall(this.#peer, `${this.#origin}/status.json`, "GET", undefined, signal, (res) =>
      peerJson(this.#peer, res),
    );
  }

  /**
   * lookup asks the peer's `/status/lookup?key=K&group=G&local=1`: what it holds of the key, never
   * loaded. authorization (the asking caller's API read token) replaces the peer token when given.
   */
  async lookup(group: string, key: string, signal?: AbortSignal, authorization?: string): Promise<unknown> {
    const query = () => `?key=${encodeURIComponent(key)}&group=${encodeURIComponent(group)}&local=1`;
    const target = `${this.#origin}/status/lookup${this.#encoded(query)}`;
    const headers = authorization ? { ...this.#peer.headers, authorization } : this.#peer.headers;
    return peerCall(this.#peer, target, "GET", undefined, signal, (res) => peerJson(this.#peer, res), headers);
  }

  /** #call makes one request for group/key (see peerCall) and reads its answer with read. */
  async #call<T>(
    method: string,
    group: string,
    key: string,
    body: Uint8Array<ArrayBuffer> | undefined,
    signal: AbortSignal | undefined,
    read: (res: Response) => Promise<T>,
    extra?: Record<string, string>,
  ): Promise<T> {
    const target = this.#encoded(() => this.urlFor(group, key));
    const headers = extra ? { ...this.#peer.headers, ...extra } : this.#peer.headers;
    return peerCall(this.#peer, target, method, body, signal, read, headers);
  }

  /** #encoded builds a URL part; text that cannot be percent-encoded (a lone surrogate) is this request failing. */
  #encoded(build: () => string): string {
    try {
      return build();
    } catch (err) {
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url}: ${errorMessage(err)}`, { cause: err });
    }
  }
}
