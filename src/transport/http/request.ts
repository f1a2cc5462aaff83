import { errorMessage, GeeCacheError } from "../../core/errors.ts";
import { plainError } from "../../core/plain-error.ts";
import { ERROR_CODE_HEADER } from "../../core/responses.ts";

/** PeerEndpoint is how one HTTP peer is reached: its name (for messages), bound, headers, fetch and TLS. */
export interface PeerEndpoint {
  readonly url: string;
  /** timeout bounds each request, answer included, in ms. */
  readonly timeout: number;
  readonly headers: Record<string, string>;
  readonly fetch: typeof fetch;
  readonly tls: { ca?: string } | undefined;
}

/**
 * peerCall makes one request to peer and reads its answer with read, both bounded by the peer
 * timeout; the caller's signal ends it with ABORTED, anything else that fails is PEER_FAILED. The
 * timer is cleared as soon as the answer is read: AbortSignal.timeout would leave one live timer
 * per request for the whole timeout, thousands under load, which showed in the p99 of a peer hop.
 */
export async function peerCall<T>(
  peer: PeerEndpoint,
  target: string,
  method: string,
  body: Uint8Array<ArrayBuffer> | undefined,
  signal: AbortSignal | undefined,
  read: (res: Response) => Promise<T>,
  headers: Record<string, string> = peer.headers,
): Promise<T> {
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException("The operation timed out.", "TimeoutError")),
    peer.timeout,
  );
  timer.unref();
  try {
    let res: Response;
    try {
      res = await peer.fetch(target, {
        method,
        body,
        headers,
        redirect: "error", // a peer never redirects; following one would send our token elsewhere
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
        ...(peer.tls ? { tls: peer.tls } : {}),
      } as RequestInit);
    } catch (err) {
      if (signal?.aborted)
        throw new GeeCacheError("ABORTED", `request to peer ${peer.url} was aborted`, { cause: err });
      const why = plainError(timeout.signal.aborted ? timeout.signal.reason : err, { timeout: peer.timeout });
      throw new GeeCacheError("PEER_FAILED", `peer ${peer.url}: ${why}`, { cause: err });
    }
    return await read(res);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * peerBody reads a 2xx answer's body; any other status is a PEER_FAILED error carrying the peer's message (LOAD_FAILED
 * when the peer's source failed).
 */
export async function peerBody(peer: PeerEndpoint, res: Response): Promise<Uint8Array> {
  let body: Uint8Array;
  try {
    body = await res.bytes();
  } catch (err) {
    throw new GeeCacheError("PEER_FAILED", `peer ${peer.url}: reading the body failed: ${plainError(err)}`, {
      cause: err,
    });
  }
  if (res.status < 200 || res.status > 299) {
    const text = new TextDecoder().decode(body.subarray(0, 200)).trim().split("\n", 1)[0];
    // A peer whose own source failed is alive and answered: LOAD_FAILED, which peer health does not count.
    const code =
      res.status === 503 && res.headers.get(ERROR_CODE_HEADER) === "LOAD_FAILED" ? "LOAD_FAILED" : "PEER_FAILED";
    throw new GeeCacheError(code, `peer ${peer.url} answered ${res.status}${text ? `: ${text}` : ""}`);
  }
  return body;
}

/** peerJson reads a 2xx answer's JSON body (PEER_FAILED when it is not JSON), as peerBody. */
export async function peerJson(peer: PeerEndpoint, res: Response): Promise<unknown> {
  const body = await peerBody(peer, res);
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch (err) {
    throw new GeeCacheError("PEER_FAILED", `peer ${peer.url} sent malformed JSON: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/**
 * keyNotFound tells whether a 404 is about the key. geecache peers say so with a code header
 * (NOT_FOUND, or UNKNOWN_GROUP / NO_ROUTE for a misconfigured peer). Go GeeCache and groupcache
 * peers send no code: for them the only sign of a missing group is their own fixed text, so that
 * text is read for header-less answers only.
 */
export function keyNotFound(code: string | null, text: string): boolean {
  if (code !== null) return code === "NOT_FOUND";
  return !/^no such group/.test(text) && !/^404 page not found/.test(text);
}

/** decodedOr decodes a peer's body with decode; a body that does not decode is PEER_FAILED, naming what it was. */
export function decodedOr<T>(peer: string, what: string, decode: (body: Uint8Array) => T, body: Uint8Array): T {
  try {
    return decode(body);
  } catch (err) {
    throw new GeeCacheError("PEER_FAILED", `peer ${peer} sent a malformed ${what}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** oneByOne asks get for every key, parallel at a time: one answer or one GeeCacheError per key. */
export async function oneByOne<T>(
  keys: readonly string[],
  parallel: number,
  get: (key: string) => Promise<T>,
): Promise<Map<string, T | GeeCacheError>> {
  const out = new Map<string, T | GeeCacheError>();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      out.set(
        key,
        await get(key).catch((err: unknown) =>
          err instanceof GeeCacheError ? err : new GeeCacheError("PEER_FAILED", errorMessage(err)),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, keys.length) }, worker));
  return out;
}
