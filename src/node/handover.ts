import type { PeerSet } from "../cluster/peer-set.ts";
import type { Group } from "../group/group.ts";
import type { Registry } from "../group/registry.ts";

/** HANDOVER_PARALLEL is how many entries a leaving node sends at once. */
export const HANDOVER_PARALLEL = 16;

/** HandoverLimits bound a leaving node's handover: a time by which it stops, and a number of bytes. */
export interface HandoverLimits {
  /** until is the time (performance.now() ms) by which sending stops. */
  until: number;
  maxBytes: number;
  /** writtenOnly sends only written values (not those loaded from the source). */
  writtenOnly?: boolean;
}

/** HandoverResult says what a handover sent: entries and bytes taken, refused or failed, and how long it took. */
export interface HandoverResult {
  sent: number;
  bytes: number;
  failed: number;
  /** left counts the entries not sent: the time or the byte bound ran out, or no peer could take them. */
  left: number;
  ms: number;
}

/**
 * handOver sends each group's main-cache entries, most valuable first (the cache's own order), to
 * the nodes that own them now (all of them once peers.leave() took this node out; only `to`'s when
 * given: a peer back in the ring), as offers: a node keeps a value of its own that was written
 * later. Only peers that speak the extension are sent anything. It stops at the limits; what it
 * could not send is counted in left.
 */
export async function handOver(
  registry: Registry,
  peers: PeerSet,
  limits: HandoverLimits,
  to?: string,
  entries: Iterable<[group: Group, key: string]> = ownEntries(registry),
): Promise<HandoverResult> {
  const start = performance.now();
  const result: HandoverResult = { sent: 0, bytes: 0, failed: 0, left: 0, ms: 0 };
  const work: Array<() => Promise<void>> = [];
  for (const [group, key] of entries) {
    const entry = group.peek(key);
    const owner = peers.pickPeer(key);
    if ((to !== undefined && owner?.url !== to) || (limits.writtenOnly && !entry?.written)) continue;
    if (!entry || !owner?.set || owner.extended !== true) {
      result.left++;
      continue;
    }
    work.push(async () => {
      if (performance.now() >= limits.until || result.bytes + entry.value.length > limits.maxBytes) {
        result.left++;
        return;
      }
      result.bytes += entry.value.length;
      const signal = AbortSignal.timeout(Math.max(1, limits.until - performance.now()));
      try {
        await owner.set!(group.name, key, entry.value, entry.expiresAt, signal, "offer", entry.written ?? 0);
        result.sent++;
      } catch {
        result.failed++;
      }
    });
  }
  let next = 0;
  const worker = async () => {
    while (next < work.length) await work[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(HANDOVER_PARALLEL, work.length) }, worker));
  result.ms = Math.round(performance.now() - start);
  return result;
}

/**
 * keepOwnedOnly moves the main-cache entries of keys this node does not own (after the ring
 * changed) into each group's copies: a new owner may still peek them during the handoff, but a get
 * here, which looks in the main cache first, never serves them. It returns those it moved.
 */
export function keepOwnedOnly(registry: Registry, owns: (key: string) => boolean): Array<[Group, string]> {
  const moved: Array<[Group, string]> = [];
  for (const [g, key] of ownEntries(registry)) {
    if (owns(key)) continue;
    const e = g.peek(key);
    // A copy keeps its write time: handed over, it must win over what the owner held before it.
    const written = e?.written ?? 0;
    if (e) g.setCopy(key, e.value, e.expiresAt > 0 ? { expiresAt: e.expiresAt, written } : { ttl: 0, written });
    moved.push([g, key]);
  }
  return moved;
}

/** ownEntries lists every group's main-cache keys, most valuable first, with their group. */
function ownEntries(registry: Registry): Array<[Group, string]> {
  return registry.groups().flatMap((g) => g.ownKeys().map((k): [Group, string] => [g, k]));
}
