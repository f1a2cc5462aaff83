import type { ByteView } from "../core/byteview.ts";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import type { SetMode } from "../group/peers.ts";
import type { GetResult } from "../group/results.ts";

/**
 * PeerGroup is what answering a peer needs of one group: its local reads and writes, none of which
 * is ever forwarded to another node. A Group is one.
 */
export interface PeerGroup {
  /** getLocal loads key here (main cache or loader) and answers with its measured rate (minuteQps). */
  getLocal(key: string, options?: { signal?: AbortSignal }): Promise<GetResult>;
  /** peek returns the cached copy of key (main or hot) without loading or counting it. */
  peek(key: string): GetResult | undefined;
  /** setLocal stores value in the main cache: this node owns the key. */
  setLocal(
    key: string,
    value: Uint8Array | ByteView,
    options: { ttl?: number; expiresAt?: number; written?: number; dropElsewhere?: boolean },
  ): unknown;
  /** setCopy keeps value as a copy for when the key's owner is down. */
  setCopy(key: string, value: Uint8Array | ByteView, options: { ttl?: number; expiresAt?: number }): void;
  /** purgeLocal drops every entry of the group here unless it purged at generation or later already. */
  purgeLocal?(generation: number): number;
  /** generation is the group's purge number. */
  readonly generation?: number;
  /** removeLocal drops key from this node's caches. */
  removeLocal(key: string): unknown;
}

/** MemberState is what a node announces to its peers: it leaves the ring, or joins it (again). */
export type MemberState = "leaving" | "joining";

/** PeerGroups finds a group by name; a Registry is one. A node's also hears its peers' announcements (member). */
export interface PeerGroups {
  get(name: string): PeerGroup | undefined;
  /** member hears that peer leaves the ring or joins it again; false when peer is not a member. */
  member?(peer: string, state: MemberState, boot: string): boolean;
}

/** PeerServiceOptions are the limits of what peers may write. */
export interface PeerServiceOptions {
  /** maxValueBytes bounds a value a peer writes (TOO_LARGE over it). */
  maxValueBytes: number;
}

/** ReadContext is how a read learns its caller's signal: a getter, so that a cache hit never makes one. */
export type ReadContext = { readonly signal?: AbortSignal };

/**
 * PeerService holds the rules for answering another node, once for every transport: reads are
 * answered here and never forwarded, a peek answers only a cached copy, a write stores as the
 * owner or as a copy, expire 0 means never. Failures are GeeCacheErrors with codes
 * (UNKNOWN_GROUP, NOT_FOUND, TOO_LARGE, ...); a transport only decodes a request, calls one
 * method and encodes what it returns or throws.
 */
export class PeerService {
  readonly maxValueBytes: number;
  readonly #groups: PeerGroups;

  constructor(groups: PeerGroups, options: PeerServiceOptions) {
    const { maxValueBytes } = options;
    if (!(Number.isInteger(maxValueBytes) && maxValueBytes > 0))
      throw new RangeError(`PeerService maxValueBytes must be a whole number > 0, got ${maxValueBytes}`);
    this.#groups = groups;
    this.maxValueBytes = maxValueBytes;
  }

  /**
   * group returns the group named name or throws UNKNOWN_GROUP; a transport calls it first only to
   * refuse a request before reading its body.
   */
  group(name: string): PeerGroup {
    const g = this.#groups.get(name);
    if (!g) throw unknownGroup(name);
    return g;
  }

  /**
   * get answers key from this node (main cache or loader) with the key's measured rate: the
   * group's own promise, so that a transport can answer a hit without waiting a turn
   * (Bun.peek). Unknown group: a rejected promise.
   */
  get(group: string, key: string, context?: ReadContext): Promise<GetResult> {
    const g = this.#groups.get(group);
    return g ? g.getLocal(key, context) : Promise.reject(unknownGroup(group));
  }

  /** peek returns key's cached copy only (never loaded, never forwarded); NOT_FOUND when there is none. */
  peek(group: string, key: string): GetResult {
    const cached = this.group(group).peek(key);
    if (!cached) throw new GeeCacheError("NOT_FOUND", `key ${JSON.stringify(key)} is not cached here`);
    return cached;
  }

  /**
   * set stores value as the key's owner, or with copy as a copy for when the owner is down;
   * expiresAt is Unix ms and 0 means never. A value over maxValueBytes is TOO_LARGE.
   */
  set(group: string, key: string, value: Uint8Array, expiresAt: number, mode?: SetMode, written = 0): void {
    if (value.length > this.maxValueBytes)
      throw new GeeCacheError("TOO_LARGE", `value is ${value.length} bytes, over the limit of ${this.maxValueBytes}`);
    const g = this.group(group);
    const at = expiresAt > 0 ? { expiresAt } : { ttl: 0 }; // expire 0 on the wire = never
    if (mode === "copy") {
      g.setCopy(key, value, at);
      return;
    }
    if (mode === "offer") {
      // A handover never overwrites what this node holds unless it was written later: a newer write may have landed.
      const had = g.peek(key);
      if (had?.from === "main" && (had.written ?? 0) >= written) return;
      // A written value that replaces this node's own: others may hold a copy of the old one.
      if (had && written > 0) return void g.setLocal(key, value, { ...at, written, dropElsewhere: true });
    }
    g.setLocal(key, value, written ? { ...at, written } : at);
  }

  /**
   * member takes a node's announcement that it leaves the ring or joins it again; false when this
   * node does not know it (not a member, or no one listens).
   */
  member(peer: string, state: MemberState, boot: string): boolean {
    return this.#groups.member?.(peer, state, boot) ?? false;
  }

  /**
   * purge drops every entry of group here, at the cluster's purge number generation (an older or equal one does
   * nothing).
   */
  purge(group: string, generation: number): void {
    const g = this.group(group);
    if (!g.purgeLocal) throw new GeeCacheError("INVALID_ARGUMENT", `group ${group} cannot be purged`);
    g.purgeLocal(generation);
  }

  /** generation is the purge number of group here (0 for an unknown group or one never purged). */
  generation(group: string): number {
    return this.#groups.get(group)?.generation ?? 0;
  }

  /** remove drops key from this node's caches. */
  remove(group: string, key: string): void {
    this.group(group).removeLocal(key);
  }

  /**
   * getMany answers every key here (never forwarded), one entry per key in order: its result or
   * its GeeCacheError (INTERNAL for anything else). Unknown group: a rejected promise.
   */
  getMany(group: string, keys: readonly string[], context?: ReadContext): Promise<Array<GetResult | GeeCacheError>> {
    const g = this.#groups.get(group);
    if (!g) return Promise.reject(unknownGroup(group));
    return Promise.all(keys.map((k) => g.getLocal(k, context).catch(coded)));
  }
}

function unknownGroup(name: string): GeeCacheError {
  return new GeeCacheError("UNKNOWN_GROUP", `no such group: ${name}`);
}

/** coded makes any failure a GeeCacheError: one that is not already is INTERNAL. */
function coded(err: unknown): GeeCacheError {
  return err instanceof GeeCacheError ? err : new GeeCacheError("INTERNAL", errorMessage(err));
}
