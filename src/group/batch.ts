import { errorMessage, GeeCacheError } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { SingleFlight } from "../core/singleflight.ts";
import { withSignal } from "./abort.ts";
import { keyError } from "./keys.ts";
import type { PeerClient, PeerPicker } from "./peers.ts";

/** BatchResult is one key's answer in a batch: its value with expiry and origin, or the key's error. */
export type BatchResult<R> = R | GeeCacheError;

/** BatchParts are the pieces of a Group that a batch get works with. */
export interface BatchParts<R> {
  name: string;
  stats: { gets: number; cacheHits: number; loads: number; loadsDeduped: number };
  flight: SingleFlight<R>;
  peers: PeerPicker | undefined;
  lookup(key: string): R | undefined;
  /** load is a single get's miss path: the owner over the ring (one request), or a local load. */
  load(key: string): Promise<R>;
  /** viaPeer turns a peer's answer into a result, and loads locally when the peer failed. */
  viaPeer(key: string, ask: () => Promise<PeerResponse>): Promise<R>;
}

type Pending = Map<string, PromiseWithResolvers<PeerResponse>>;

/**
 * getMany answers keys as a Group's get would, each key once: cache hits at once; misses join a
 * load in flight (singleflight per key) or start one, and the misses owned by a peer whose client
 * has getMany go to that peer in ONE request. A key's error is its entry; nothing rejects except
 * for the caller's signal.
 */
export async function getMany<R>(
  parts: BatchParts<R>,
  keys: Iterable<string>,
  signal?: AbortSignal,
): Promise<Map<string, BatchResult<R>>> {
  const out = new Map<string, BatchResult<R>>();
  const byOwner = new Map<PeerClient, Pending>();
  const waits: Promise<unknown>[] = [];
  for (const key of keys) {
    if (out.has(key)) continue;
    const bad = keyError(parts.name, key);
    if (bad) {
      out.set(key, bad);
      continue;
    }
    parts.stats.gets++;
    const hit = parts.lookup(key);
    if (hit !== undefined) {
      parts.stats.cacheHits++;
      out.set(key, hit);
      continue;
    }
    parts.stats.loads++;
    out.set(key, PLACEHOLDER); // keeps request order in the map
    const flight = parts.flight.do(key, () => start(parts, key, byOwner));
    waits.push(
      flight.then(
        (r) => out.set(key, r),
        (err) => out.set(key, asError(err)),
      ),
    );
  }
  for (const [owner, pending] of byOwner) send(parts.name, owner, pending);
  if (waits.length > 0) await withSignal(() => Promise.all(waits), signal);
  return out;
}

const PLACEHOLDER = new GeeCacheError("INTERNAL", "batch entry not settled");

/** start is a flight's first step: queue key for its owner's batch, or take the single-get path. */
function start<R>(parts: BatchParts<R>, key: string, byOwner: Map<PeerClient, Pending>): Promise<R> {
  const owner = parts.peers?.pickPeer(key);
  if (!owner?.getMany) return parts.load(key);
  const hit = parts.lookup(key); // another flight may have filled the cache meanwhile
  if (hit !== undefined) return Promise.resolve(hit);
  parts.stats.loadsDeduped++;
  let pending = byOwner.get(owner);
  if (!pending) byOwner.set(owner, (pending = new Map()));
  const waiter = Promise.withResolvers<PeerResponse>();
  pending.set(key, waiter);
  return parts.viaPeer(key, () => waiter.promise);
}

/** send asks owner for every pending key in one request and settles each key's waiter. */
function send(group: string, owner: PeerClient, pending: Pending): void {
  owner.getMany!(group, [...pending.keys()]).then(
    (answers) => {
      for (const [key, w] of pending) {
        const a = answers.get(key);
        if (a === undefined)
          w.reject(new GeeCacheError("PEER_FAILED", `peer ${owner.url} did not answer key ${JSON.stringify(key)}`));
        else if (a instanceof GeeCacheError) w.reject(a);
        else w.resolve(a);
      }
    },
    (err) => {
      for (const w of pending.values()) w.reject(err);
    },
  );
}

function asError(err: unknown): GeeCacheError {
  return err instanceof GeeCacheError ? err : new GeeCacheError("INTERNAL", errorMessage(err), { cause: err });
}
