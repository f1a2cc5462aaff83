/**
 * geecache/client: talk to a geecache cluster over its public API from Bun or Node 20+ (fetch).
 * It imports nothing of the server, so bundling it pulls in no node code.
 */
import { GeeCacheClientError } from "./errors.ts";

export { GeeCacheClientError } from "./errors.ts";

/** DEFAULT_CLIENT_TIMEOUT is how long (ms) one request to one node may take before the next node is tried. */
export const DEFAULT_CLIENT_TIMEOUT = 5000;
/** DEFAULT_CLIENT_BATCH_KEYS is how many keys one POST /api/batch carries (the node's default --max-batch-keys). */
export const DEFAULT_CLIENT_BATCH_KEYS = 1000;

/** GeeCacheClientOptions name the nodes and how to reach them. */
export interface GeeCacheClientOptions {
  /** urls of the nodes' API listeners (http://host:port), tried in turn; one is enough. */
  urls: string | readonly string[];
  /** token is sent as `Authorization: Bearer` (the node's --api-token / --api-read-token). */
  token?: string;
  /** timeout bounds one request to one node, in ms. */
  timeout?: number;
  /** group is used when a call names none (default: the node's first group). */
  group?: string;
  /** maxBatchKeys splits a getMany into requests of at most this many keys. */
  maxBatchKeys?: number;
  fetch?: typeof fetch;
}

/** CallOptions choose a call's group and let the caller abort it. */
export interface CallOptions {
  group?: string;
  signal?: AbortSignal;
}

/** SetOptions add a lifetime: ms, or a duration text such as "30s" (0 = forever). */
export interface SetOptions extends CallOptions {
  ttl?: number | string;
}

/** WriteOutcome lists the nodes a write could not reach (the owner has the value; copies elsewhere may linger). */
export interface WriteOutcome {
  failedPeers: string[];
}

type Attempt = { res: Response; url: string };

/**
 * GeeCacheClient gets, sets and removes keys through any node of a cluster. A node that cannot be
 * reached, times out or answers 5xx is skipped for the next one; a 4xx is the answer and is thrown
 * at once. Each call starts at the next node in turn, which spreads the load.
 */
export class GeeCacheClient {
  readonly urls: readonly string[];
  readonly #headers: Record<string, string>;
  readonly #timeout: number;
  readonly #group: string | undefined;
  readonly #batch: number;
  readonly #fetch: typeof fetch;
  #next = 0; // where the next call starts

  constructor(options: GeeCacheClientOptions) {
    const urls = typeof options.urls === "string" ? [options.urls] : [...(options.urls ?? [])];
    if (urls.length === 0) throw new TypeError("GeeCacheClient needs at least one node URL in urls");
    for (const u of urls) {
      if (!/^https?:\/\/[^/?#]+\/?$/.test(u))
        throw new TypeError(`GeeCacheClient urls must be http(s)://HOST:PORT, got ${JSON.stringify(u)}`);
    }
    this.urls = urls.map((u) => u.replace(/\/$/, ""));
    this.#timeout = options.timeout ?? DEFAULT_CLIENT_TIMEOUT;
    if (!(this.#timeout > 0)) throw new RangeError(`GeeCacheClient timeout must be > 0 ms, got ${options.timeout}`);
    this.#batch = options.maxBatchKeys ?? DEFAULT_CLIENT_BATCH_KEYS;
    if (!(this.#batch >= 1))
      throw new RangeError(`GeeCacheClient maxBatchKeys must be >= 1, got ${options.maxBatchKeys}`);
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.#group = options.group;
    this.#fetch = options.fetch ?? fetch;
  }

  /** get returns key's value, or undefined when the key does not exist. */
  async get(key: string, options: CallOptions = {}): Promise<Uint8Array | undefined> {
    const { res, url } = await this.#send("GET", this.#path(key, options.group), undefined, options.signal);
    if (res.status === 404) {
      // A missing group is an error; only a missing key is an answer (the node says which in a code).
      if (res.headers.get("x-geecache-error") === "UNKNOWN_GROUP")
        throw new GeeCacheClientError(404, await line(res), url);
      return undefined;
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /** getText returns key's value as UTF-8 text, or undefined when the key does not exist. */
  async getText(key: string, options: CallOptions = {}): Promise<string | undefined> {
    const bytes = await this.get(key, options);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /** set stores value under key in the cluster; it resolves with the nodes that could not be reached. */
  async set(key: string, value: string | Uint8Array, options: SetOptions = {}): Promise<WriteOutcome> {
    const ttl =
      options.ttl === undefined
        ? ""
        : `&ttl=${encodeURIComponent(typeof options.ttl === "number" ? `${options.ttl}ms` : options.ttl)}`;
    const body = typeof value === "string" ? new TextEncoder().encode(value) : value;
    const { res } = await this.#send("PUT", this.#path(key, options.group) + ttl, body, options.signal);
    return outcome(res);
  }

  /** remove drops key from every node; it resolves with the nodes that could not be reached. */
  async remove(key: string, options: CallOptions = {}): Promise<WriteOutcome> {
    const { res } = await this.#send("DELETE", this.#path(key, options.group), undefined, options.signal);
    return outcome(res);
  }

  /**
   * purge drops every entry of group on every node (`DELETE /api?group=G&all=true`, the write
   * token); it resolves with the nodes that could not be reached (they purge when next asked).
   */
  async purge(group: string, options: { signal?: AbortSignal } = {}): Promise<WriteOutcome> {
    const path = `/api?group=${encodeURIComponent(group)}&all=true`;
    const { res } = await this.#send("DELETE", path, undefined, options.signal);
    return outcome(res);
  }

  /**
   * getMany returns the values of the keys that exist (missing keys are absent), with one
   * `POST /api/batch` per maxBatchKeys keys. A key whose load failed rejects the call.
   */
  async getMany(keys: Iterable<string>, options: CallOptions = {}): Promise<Map<string, Uint8Array>> {
    const all = [...new Set(keys)];
    const out = new Map<string, Uint8Array>();
    const group = options.group ?? this.#group;
    for (let i = 0; i < all.length; i += this.#batch) {
      const chunk = all.slice(i, i + this.#batch);
      const body = new TextEncoder().encode(
        JSON.stringify(group === undefined ? { keys: chunk } : { group, keys: chunk }),
      );
      const { res, url } = await this.#send("POST", "/api/batch", body, options.signal, {
        "content-type": "application/json",
      });
      const { results } = (await res.json()) as {
        results: { key: string; status: number; value?: string; encoding?: string; error?: string }[];
      };
      for (const r of results) {
        if (r.status === 200)
          out.set(r.key, r.encoding === "base64" ? fromBase64(r.value!) : new TextEncoder().encode(r.value!));
        else if (r.status !== 404)
          throw new GeeCacheClientError(r.status, `key ${JSON.stringify(r.key)}: ${r.error ?? "failed"}`, url);
      }
    }
    return out;
  }

  #path(key: string, group: string | undefined): string {
    const g = group ?? this.#group;
    return `/api?key=${encodeURIComponent(key)}${g === undefined ? "" : `&group=${encodeURIComponent(g)}`}`;
  }

  /**
   * #send tries each node once from the next starting point; it resolves with the first answer that is neither 5xx nor
   * a failure.
   */
  async #send(
    method: string,
    path: string,
    body: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    headers?: Record<string, string>,
  ): Promise<Attempt> {
    const n = this.urls.length;
    const start = this.#next;
    this.#next = (this.#next + 1) % n;
    let last: GeeCacheClientError | undefined;
    for (let i = 0; i < n; i++) {
      const url = this.urls[(start + i) % n]!;
      let res: Response;
      try {
        res = await this.#fetchOnce(url + path, method, body, signal, headers);
      } catch (err) {
        if (signal?.aborted) throw new GeeCacheClientError(0, "the request was aborted", url, { cause: err });
        last = new GeeCacheClientError(
          0,
          `${url} could not be reached: ${err instanceof Error ? err.message : String(err)}`,
          url,
          { cause: err },
        );
        continue;
      }
      if (res.status >= 500) {
        last = new GeeCacheClientError(res.status, (await line(res)) || `${url} answered ${res.status}`, url);
        continue;
      }
      if (res.status >= 400 && !(res.status === 404 && method === "GET"))
        throw new GeeCacheClientError(res.status, (await line(res)) || `answered ${res.status}`, url);
      return { res, url };
    }
    throw last!;
  }

  async #fetchOnce(
    url: string,
    method: string,
    body: Uint8Array | undefined,
    signal: AbortSignal | undefined,
    headers?: Record<string, string>,
  ): Promise<Response> {
    // One controller for the caller's signal and the timeout (AbortSignal.any is not in every Node 20).
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new Error(`timed out after ${this.#timeout} ms`)), this.#timeout);
    const onAbort = () => ctl.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await this.#fetch(url, {
        method,
        body,
        headers: headers ? { ...this.#headers, ...headers } : this.#headers,
        signal: ctl.signal,
        redirect: "error",
      });
      // The body is read within the timeout too: buffer it now.
      const buf = await res.arrayBuffer();
      return new Response(res.status === 204 ? null : buf, { status: res.status, headers: res.headers });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

async function line(res: Response): Promise<string> {
  return (await res.text().catch(() => "")).trim().split("\n", 1)[0]!;
}

function outcome(res: Response): WriteOutcome {
  const failed = res.headers.get("x-geecache-failed-peers");
  return { failedPeers: failed ? failed.split(",").filter((p) => p !== "") : [] };
}

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
