import { isNotFound } from "./errors.ts";
import type { PeerGetter } from "./peers.ts";

/** RequestOutcome is how one request ended: a value, a key that does not exist, or a failure. */
export type RequestOutcome = "ok" | "not_found" | "error";

/** PeerObserver is told about every request to a peer once it has ended: who, how, and how long in seconds. */
export type PeerObserver = (peer: string, outcome: RequestOutcome, seconds: number) => void;

/**
 * observePeer makes peer report each get, set and remove to observer, and returns the same object
 * (so its type is kept). Without an observer the peer is left as it is: no cost when nobody listens.
 */
export function observePeer<T extends PeerGetter>(peer: T, observer: PeerObserver | undefined): T {
  if (!observer) return peer;
  const url = peer.url;
  const timed = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        const result = await call.apply(peer, args);
        observer(url, "ok", (performance.now() - start) / 1000);
        return result;
      } catch (err) {
        observer(url, isNotFound(err) ? "not_found" : "error", (performance.now() - start) / 1000);
        throw err;
      }
    };
  const p = peer as PeerGetter;
  const mutable = peer as { -readonly [K in keyof PeerGetter]: PeerGetter[K] };
  mutable.get = timed(p.get);
  if (p.set) mutable.set = timed(p.set);
  if (p.remove) mutable.remove = timed(p.remove);
  return peer;
}
