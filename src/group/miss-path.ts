import { ByteView } from "../core/byteview.ts";
import { isNotFound } from "../core/errors.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { SingleFlight } from "../core/singleflight.ts";
import { type Caches, Entry } from "./caches.ts";
import { entryOf, type Getter, load } from "./loader.ts";
import type { GroupSettings } from "./options.ts";
import type { PeerClient, PeerPicker } from "./peers.ts";
import { hotChoice, type Popularity } from "./popularity.ts";
import { takeOver } from "./replicas.ts";
import type { GetResult, GroupStats } from "./results.ts";
import type { WriteMarks } from "./write-marks.ts";

/** MissParts are the parts of a Group that its miss path shares: the same objects, read and counted in place. */
export interface MissParts {
  caches: Caches;
  stats: GroupStats;
  popularity: Popularity; // request rates of the keys this node owns
  local: SingleFlight<GetResult>; // loader calls; never waits on a peer
  marks: WriteMarks; // lets a set or remove win over loads in flight
  /** lookup is the group's hit path: the main cache, then the hot one. */
  lookup(key: string): GetResult | undefined;
  /** lookupMain is the hit path of the main cache alone. */
  lookupMain(key: string): GetResult | undefined;
  /** expiry resolves a ttl or an expiresAt to Unix ms (0 = never), the group's ttl by default. */
  expiry(ttl: number | undefined, expiresAt: number | undefined): number;
  /** generation is the group's purge number here; purge catches up with a newer one heard from a peer. */
  generation(): number;
  purge(generation: number): void;
}

/**
 * MissPath is what a Group does when a get misses its caches: ask the key's owner among the peers
 * (keeping a hot copy of a popular value), or, when this node owns the key or the owner failed,
 * take a copy another node holds or call the loader, and cache what came back unless a write
 * happened meanwhile.
 */
export class MissPath {
  readonly #name: string;
  readonly #getter: Getter;
  readonly #peers: PeerPicker | undefined;
  readonly #keepsHot: (minuteQps: number | undefined) => boolean; // the owner's rate against hotQps, else the coin
  readonly #hotTtl: number; // 0 = hot copies and fallback loads are not kept
  readonly #now: () => number;
  readonly #p: MissParts;

  constructor(settings: GroupSettings, parts: MissParts) {
    this.#name = settings.name;
    this.#getter = settings.getter;
    this.#peers = settings.peers;
    this.#keepsHot = hotChoice(settings.hotQps, settings.hotCacheRatio, settings.random);
    this.#hotTtl = settings.hotTtl;
    this.#now = settings.now;
    this.#p = parts;
  }

  /** load is a single get's miss: the owner over the ring (one request), or a local load. */
  async load(key: string): Promise<GetResult> {
    // Another flight may have filled the cache between our miss and this call (groupcache's load race).
    const hit = this.#p.lookup(key);
    if (hit) return hit;
    this.#p.stats.loadsDeduped++;
    const peer = this.#peers?.pickPeer(key);
    if (!peer) this.#p.popularity.record(key); // a key this node owns
    return peer ? this.viaPeer(key, () => peer.get(this.#name, key), peer) : this.loadLocally(key);
  }

  /**
   * viaPeer takes the owner's answer (maybe into the hot cache). When the owner (asked) failed and
   * has since left the ring this node routes by, key goes to its new owner: asked once in turn, or
   * loaded here as the owner when that is this node. Otherwise it loads locally as a fallback.
   */
  async viaPeer(key: string, ask: () => Promise<PeerResponse>, asked?: PeerClient): Promise<GetResult> {
    const mark = this.#p.marks.begin(key);
    try {
      let res = await ask();
      const theirs = res.generation ?? 0;
      const ours = this.#p.generation();
      // A peer that purged the group after us: we missed the purge, so we take it now (this answer is newer).
      if (theirs > ours) this.#p.purge(theirs);
      // A geecache peer that missed a purge: it purges now, then answers again (its first answer may be older).
      else if (
        theirs < ours &&
        asked?.purge &&
        (await asked.purge(this.#name, ours).then(
          () => true,
          () => false,
        ))
      )
        res = await ask();
      this.#p.stats.peerLoads++;
      const entry = new Entry(ByteView.adopt(res.value), res.expiresAt);
      if (!mark.stale && this.#keepsHot(res.minuteQps) && !this.#expired(entry)) this.#keep(key, entry, true);
      return { value: entry.value, expiresAt: entry.expiresAt, from: "peer" };
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.#p.stats.peerErrors++;
    } finally {
      this.#p.marks.end(key, mark);
    }
    if (asked) {
      const now = this.#peers?.pickPeer(key);
      if (now !== asked) return now ? this.viaPeer(key, () => now.get(this.#name, key)) : this.loadLocally(key);
    }
    // The owner failed: load here (a copy holder's written value first), but keep the value only
    // as a short-lived copy, so it cannot outlive the owner's return by more than hotTtl.
    return this.loadLocally(key, false, true);
  }

  /**
   * loadLocally loads key on this node, one call at a time per key: from the main cache unless refresh, else a copy
   * another node holds, else the loader; a fallback (the owner failed) is kept only as a copy living at most hotTtl.
   */
  loadLocally(key: string, refresh = false, fallback = false): Promise<GetResult> {
    const p = this.#p;
    return p.local.do(key, async () => {
      if (!refresh) {
        const hit = p.lookupMain(key);
        if (hit) return hit;
      }
      const mark = p.marks.begin(key);
      try {
        // Handoff or a written copy: another node may hold key; taking its value spares the source.
        const taken =
          refresh || !this.#peers
            ? undefined
            : (p.caches.copyOf(key, this.#now()) ?? (await takeOver(this.#name, this.#peers, key)));
        const copy = taken && new Entry(ByteView.adopt(taken.value), taken.expiresAt);
        if (copy && !this.#expired(copy)) {
          if (!mark.stale) this.#keep(key, copy, fallback);
          return { value: copy.value, expiresAt: copy.expiresAt, from: "peer" as const };
        }
        const loaded = await load(this.#name, this.#getter, key, () => p.stats.localLoadErrs++);
        const entry = entryOf(this.#name, key, loaded, p.expiry);
        p.stats.localLoads++;
        if (!mark.stale && !this.#expired(entry)) this.#keep(key, entry, fallback);
        return { value: entry.value, expiresAt: entry.expiresAt, from: "loader" as const };
      } finally {
        p.marks.end(key, mark);
      }
    });
  }

  /**
   * #keep caches a value loaded here: in the main cache when this node owns key, else as a copy living at most hotTtl.
   */
  #keep(key: string, entry: Entry, copyOnly: boolean): void {
    if (copyOnly) this.#p.caches.keepHot(key, entry, this.#hotTtl, this.#now());
    else this.#p.caches.populate(this.#p.caches.main, key, entry);
  }

  #expired(e: Entry): boolean {
    return e.expiresAt !== 0 && this.#now() >= e.expiresAt;
  }
}
