import { isNotFound } from "../core/errors.ts";
import type { TransportClient } from "./transport.ts";

/** RequestOutcome is how one request ended: a value, a key that does not exist, or a failure. */
export type RequestOutcome = "ok" | "not_found" | "error";

/** PeerObserver is told about every request to a peer once it has ended: who, how, and how long in seconds. */
export type PeerObserver = (peer: string, outcome: RequestOutcome, seconds: number) => void;

/**
 * observePeer wraps client so that each get, set and remove is reported to observer; the client
 * itself is left untouched. Without an observer it returns client: no cost when nobody listens.
 */
export function observePeer(client: TransportClient, observer: PeerObserver | undefined): TransportClient {
  if (!observer) return client;
  const url = client.url;
  const timed =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        const result = await call.apply(client, args);
        observer(url, "ok", (performance.now() - start) / 1000);
        return result;
      } catch (err) {
        observer(url, isNotFound(err) ? "not_found" : "error", (performance.now() - start) / 1000);
        throw err;
      }
    };
  return {
    url,
    get: timed(client.get),
    ...(client.set ? { set: timed(client.set) } : {}),
    ...(client.remove ? { remove: timed(client.remove) } : {}),
    ...(client.purge ? { purge: timed(client.purge) } : {}),
    ...(client.getMany ? { getMany: timed(client.getMany) } : {}),
    ...(client.peek ? { peek: timed(client.peek) } : {}),
    ...(client.unroutable ? { unroutable: (key: string) => client.unroutable!(key) } : {}),
    // Without probe, peer health falls back to get("", ""), which a live peer answers 400: a down peer never came back.
    ...(client.probe ? { probe: (signal?: AbortSignal) => client.probe!(signal) } : {}),
    ...(client.announce ? { announce: client.announce.bind(client) } : {}),
    get extended() {
      return client.extended;
    },
    // The status page's questions (status, lookup) are not the cache's traffic: passed on, not timed.
    ...(client.status ? { status: client.status.bind(client) } : {}),
    ...(client.lookup ? { lookup: client.lookup.bind(client) } : {}),
    close: () => client.close?.(),
  };
}
