import type { TransportClient } from "../../cluster/transport.ts";
import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { BATCH_CONTENT_TYPE, BATCH_SEGMENT, decodeAnswers, encodeKeys } from "./batch.ts";
import { BOOT_HEADER, COPY_HEADER, ERROR_CODE_HEADER, PEEK_HEADER } from "./responses.ts";

const PEEK_HEADERS = { [PEEK_HEADER]: "1" };
const COPY_HEADERS = { [COPY_HEADER]: "1" };
const BATCH_HEADERS = { "content-type": BATCH_CONTENT_TYPE };
/** FALLBACK_PARALLEL is how many single GETs stand in for a batch at once, for a peer without the batch route. */
const FALLBACK_PARALLEL = 16;

import type { ByteView } from "../../core/byteview.ts";
import { decodeResponse, encodeResponse, type PeerResponse } from "../../core/protocol.ts";

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
  readonly #timeout: number;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #tls: { ca?: string } | undefined;
  #batchless = false; // the peer answered the batch route 404/405: a Go peer

  constructor(options: HttpPeerOptions) {
    this.url = options.url;
    this.#origin = (options.address ?? options.url).replace(/\/+$/, "");
    this.#prefix = this.#origin + options.basePath;
    this.#timeout = options.timeout;
    this.#headers = { accept: "application/x-protobuf", ...options.headers };
    this.#fetch = options.fetch ?? fetch;
    this.#tls = options.tls;
  }

  /**
   * unroutable: URLs collapse the path segments "." and ".." (even as %2E), so these two keys cannot
   * travel on the peer route; every node loads them itself rather than count a peer error each time.
   */
  unroutable(key: string): boolean {
    return key === "." || key === "..";
  }

  /** probe asks the peer's /healthz: any HTTP answer (a Go peer's 404 too) shows it is alive. */
  async probe(signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.#timeout);
    try {
      const res = await this.#fetch(`${this.#origin}/healthz`, {
        headers: this.#headers,
        redirect: "error",
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        ...(this.#tls ? { tls: this.#tls } : {}),
      } as RequestInit);
      await res.body?.cancel();
    } catch (err) {
      throw new GeeCacheError(
        "PEER_FAILED",
        `peer ${this.url}: ${timeout.aborted ? `timed out after ${this.#timeout} ms` : errorMessage(err)}`,
        { cause: err },
      );
    }
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
      const body = await this.#body(res);
      let decoded: PeerResponse;
      try {
        decoded = decodeResponse(body);
      } catch (err) {
        throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed body: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      const boot = res.headers.get(BOOT_HEADER);
      if (boot !== null) decoded.boot = boot;
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
        const body = await this.#body(res);
        try {
          return decodeResponse(body);
        } catch (err) {
          throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed body: ${errorMessage(err)}`, {
            cause: err,
          });
        }
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
          const body = await this.#body(res);
          try {
            return decodeAnswers(body, keys, this.url);
          } catch (err) {
            throw new GeeCacheError("PEER_FAILED", `peer ${this.url} sent a malformed batch: ${errorMessage(err)}`, {
              cause: err,
            });
          }
        },
        BATCH_HEADERS,
      );
      if (answers) return answers;
      this.#batchless = true;
    }
    const out = new Map<string, PeerResponse | GeeCacheError>();
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        out.set(
          key,
          await this.get(group, key, signal).catch((err: unknown) =>
            err instanceof GeeCacheError ? err : new GeeCacheError("PEER_FAILED", errorMessage(err)),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(FALLBACK_PARALLEL, keys.length) }, worker));
    return out;
  }

  /** set stores value in the peer's main cache (PUT, protobuf body as a get's answer). */
  async set(
    group: string,
    key: string,
    value: ByteView,
    expiresAt: number,
    signal?: AbortSignal,
    copy?: boolean,
  ): Promise<void> {
    await this.#call(
      "PUT",
      group,
      key,
      encodeResponse(value, expiresAt),
      signal,
      (res) => this.#body(res),
      copy ? COPY_HEADERS : undefined,
    );
  }

  /** remove drops the key from the peer's caches (DELETE). */
  async remove(group: string, key: string, signal?: AbortSignal): Promise<void> {
    await this.#call("DELETE", group, key, undefined, signal, (res) => this.#body(res));
  }

  /**
   * #call makes one request and reads its answer, both bounded by the peer timeout. The timer is
   * cleared as soon as the answer is read: AbortSignal.timeout would leave one live timer per
   * request for the whole timeout, thousands under load, which showed in the p99 of a peer hop.
   */
  async #call<T>(
    method: string,
    group: string,
    key: string,
    body: Uint8Array<ArrayBuffer> | undefined,
    signal: AbortSignal | undefined,
    read: (res: Response) => Promise<T>,
    extra?: Record<string, string>,
  ): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException("The operation timed out.", "TimeoutError")),
      this.#timeout,
    );
    timer.unref();
    try {
      return await read(await this.#request(method, group, key, body, signal, timeout.signal, extra));
    } finally {
      clearTimeout(timer);
    }
  }

  async #request(
    method: string,
    group: string,
    key: string,
    body: Uint8Array<ArrayBuffer> | undefined,
    signal: AbortSignal | undefined,
    timeout: AbortSignal,
    extra?: Record<string, string>,
  ): Promise<Response> {
    try {
      return await this.#fetch(this.urlFor(group, key), {
        method,
        body,
        headers: extra ? { ...this.#headers, ...extra } : this.#headers,
        redirect: "error", // a peer never redirects; following one would send our token elsewhere
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        ...(this.#tls ? { tls: this.#tls } : {}),
      } as RequestInit);
    } catch (err) {
      if (signal?.aborted)
        throw new GeeCacheError("ABORTED", `request to peer ${this.url} was aborted`, { cause: err });
      const why = timeout.aborted ? `timed out after ${this.#timeout} ms` : errorMessage(err);
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url}: ${why}`, { cause: err });
    }
  }

  /**
   * #body reads a 2xx answer's body; any other status is a PEER_FAILED error carrying the peer's message (LOAD_FAILED
   * when the peer's source failed).
   */
  async #body(res: Response): Promise<Uint8Array> {
    let body: Uint8Array;
    try {
      body = await res.bytes();
    } catch (err) {
      throw new GeeCacheError("PEER_FAILED", `peer ${this.url}: reading the body failed: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (res.status < 200 || res.status > 299) {
      const text = new TextDecoder().decode(body.subarray(0, 200)).trim().split("\n", 1)[0];
      // A peer whose own source failed is alive and answered: LOAD_FAILED, which peer health does not count.
      const code =
        res.status === 503 && res.headers.get(ERROR_CODE_HEADER) === "LOAD_FAILED" ? "LOAD_FAILED" : "PEER_FAILED";
      throw new GeeCacheError(code, `peer ${this.url} answered ${res.status}${text ? `: ${text}` : ""}`);
    }
    return body;
  }
}

/**
 * keyNotFound tells whether a 404 is about the key. geecache peers say so with a code header
 * (NOT_FOUND, or UNKNOWN_GROUP / NO_ROUTE for a misconfigured peer). Go GeeCache and groupcache
 * peers send no code: for them the only sign of a missing group is their own fixed text, so that
 * text is read for header-less answers only.
 */
function keyNotFound(code: string | null, text: string): boolean {
  if (code !== null) return code === "NOT_FOUND";
  return !/^no such group/.test(text) && !/^404 page not found/.test(text);
}
