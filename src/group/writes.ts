import { ByteView } from "../core/byteview.ts";
import type { SingleFlight } from "../core/singleflight.ts";
import { type Caches, Entry } from "./caches.ts";
import { checkKey } from "./keys.ts";
import type { GroupSettings } from "./options.ts";
import { failure, removeEverywhere, type WriteContext, writeCopies } from "./replicas.ts";
import type { GetResult, GroupStats, PeerFailure, WriteResult } from "./results.ts";
import type { WriteMarks } from "./write-marks.ts";

/**
 * WriteOptions say when a written value expires: ttl ms from now, or at expiresAt (Unix ms); neither = the group's ttl.
 */
export interface WriteOptions {
  ttl?: number;
  expiresAt?: number;
  /** written is when the value was written (Unix ms at the node that took the write); default now. */
  written?: number;
  /**
   * dropElsewhere, on a setLocal, has every other node drop its copies of key afterwards: a handed
   * over value that replaced this node's own, which others may have copied meanwhile.
   */
  dropElsewhere?: boolean;
}

/** WriteParts are the parts of a Group that its writes share: the same objects, changed in place. */
export interface WriteParts {
  caches: Caches;
  stats: GroupStats;
  marks: WriteMarks; // lets a set or remove win over loads in flight
  flight: SingleFlight<GetResult>; // gets: peer fetch or local load
  local: SingleFlight<GetResult>; // loader calls
  /** expiry resolves a ttl or an expiresAt to Unix ms (0 = never), the group's ttl by default. */
  expiry(ttl: number | undefined, expiresAt: number | undefined): number;
  /** now is the group's clock (Unix ms). */
  now(): number;
  /** changed tells the group's watcher that key's value here (every key's: undefined) may have changed. */
  changed(key: string | undefined): void;
}

/**
 * Writes are a Group's sets and removes: cluster-wide ones (the owner, the copy holders, and every
 * other node's hot copy) and the local ones a peer's write lands on. A write wins over the loads of
 * its key in flight: they do not cache what they fetched, and the next get starts afresh.
 */
export class Writes {
  readonly #name: string;
  readonly #cluster: WriteContext;
  readonly #p: WriteParts;

  constructor(settings: GroupSettings, parts: WriteParts) {
    this.#name = settings.name;
    this.#p = parts;
    // What cluster-wide writes need of this group; an unreachable peer counts as a peer error.
    this.#cluster = {
      group: settings.name,
      peers: settings.peers,
      failed: (peer, err) => (parts.stats.peerErrors++, failure(peer, err)),
    };
  }

  /** set stores value for key in the cluster (see Group.set); it resolves with the peers that could not be reached. */
  async set(key: string, value: Uint8Array | string | ByteView, options: WriteOptions = {}): Promise<WriteResult> {
    checkKey(this.#name, key);
    const view = ByteView.from(value);
    const expiresAt = this.#p.expiry(options.ttl, options.expiresAt);
    // Our hot copy, if any, is stale now; a node that owns key or holds a copy keeps the value.
    const written = this.#p.now();
    const { owner, holder, failed } = await writeCopies(this.#cluster, key, view, expiresAt, written);
    const at = expiresAt > 0 ? { expiresAt, written } : { ttl: 0, written }; // 0 is already resolved: never
    if (owner) this.setLocal(key, view, at);
    else if (holder) this.setCopy(key, view, at);
    else this.removeLocal(key);
    return { failed };
  }

  /** remove drops key from every node's caches; it resolves with the peers that could not be reached. */
  async remove(key: string): Promise<WriteResult> {
    checkKey(this.#name, key);
    this.removeLocal(key);
    const failed: PeerFailure[] = [];
    await removeEverywhere(this.#cluster, key, new Set(), failed);
    return { failed };
  }

  /** setCopy keeps value as a copy of another node's written value, never served by a get here. */
  setCopy(key: string, value: Uint8Array | string | ByteView, options: WriteOptions = {}): void {
    checkKey(this.#name, key);
    const caches = this.#p.caches;
    caches.hot.lru.remove(key); // our hot copy, if any, is stale
    // So is a value this node took for key while it stood in for its owner: a get here would serve it first.
    caches.main.lru.remove(key);
    this.#p.changed(key);
    caches.populate(
      caches.copies,
      key,
      new Entry(ByteView.from(value), this.#p.expiry(options.ttl, options.expiresAt), 0, options.written ?? 0),
    );
  }

  /** setLocal stores value in this node's main cache only; it wins over a load of key in flight. */
  setLocal(key: string, value: Uint8Array | string | ByteView, options: WriteOptions = {}): GetResult {
    checkKey(this.#name, key);
    this.#invalidate(key);
    const caches = this.#p.caches;
    caches.hot.lru.remove(key);
    const expiresAt = this.#p.expiry(options.ttl, options.expiresAt);
    const entry = new Entry(ByteView.from(value), expiresAt, 0, options.written ?? this.#p.now());
    caches.populate(caches.main, key, entry);
    if (options.dropElsewhere) void removeEverywhere(this.#cluster, key, new Set(), []);
    return { value: entry.value, expiresAt: entry.expiresAt, from: "main", written: entry.written };
  }

  /**
   * removeLocal drops key from this node's caches only (and wins over a load of key in flight); true if it was cached.
   */
  removeLocal(key: string): boolean {
    checkKey(this.#name, key);
    this.#invalidate(key);
    return this.#p.caches.remove(key);
  }

  /** generation is the group's purge number here. */
  generation = 0;

  /** purge drops every entry here unless this node purged at generation or later already (see Group.purgeLocal). */
  purge(generation: number): number {
    if (generation <= this.generation) return 0;
    this.generation = generation;
    const c = this.#p.caches;
    const dropped = c.main.lru.length + c.hot.lru.length + c.copies.lru.length;
    for (const cache of [c.main, c.hot, c.copies]) cache.lru.clear();
    this.#p.marks.invalidateAll();
    this.#p.changed(undefined);
    this.#p.flight.clear();
    this.#p.local.clear();
    return dropped;
  }

  #invalidate(key: string): void {
    this.#p.changed(key);
    this.#p.marks.invalidate(key);
    this.#p.flight.forget(key);
    this.#p.local.forget(key);
  }
}
