import type { ByteView } from "../core/byteview.ts";
import { GeeCacheError } from "../core/errors.ts";
import { plainError } from "../core/plain-error.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { PeerClient, PeerPicker } from "./peers.ts";
import type { PeerFailure } from "./results.ts";

/** WriteContext is what a cluster-wide write needs of its group. */
export interface WriteContext {
  group: string;
  peers: PeerPicker | undefined;
  /** failed records a peer that could not be reached (and counts it). */
  failed(peer: string, err: unknown): PeerFailure;
}

/**
 * writeCopies sends a written value to key's owner (when it is another node) and, marked as
 * copies, to the copy holders, then has every other node drop its hot copy. It returns whether
 * this node owns key or holds a copy, and the peers that failed.
 */
export async function writeCopies(
  ctx: WriteContext,
  key: string,
  value: ByteView,
  expiresAt: number,
  written: number,
): Promise<{ owner: boolean; holder: boolean; failed: PeerFailure[] }> {
  const owner = ctx.peers?.pickPeer(key);
  const holders = ctx.peers?.copyHolders?.(key) ?? [];
  const failed: PeerFailure[] = [];
  const sent = new Set<string>();
  const put = async (peer: PeerClient, copy: boolean): Promise<void> => {
    sent.add(peer.url);
    if (!peer.set)
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `group ${ctx.group}: the transport of peer ${peer.url} cannot set values`,
      );
    await peer
      .set(ctx.group, key, value, expiresAt, undefined, copy ? "copy" : undefined, written)
      .catch((err) => failed.push(ctx.failed(peer.url, err)));
  };
  await Promise.all([owner && put(owner, false), ...holders.map((h) => (h === "self" ? undefined : put(h, true)))]);
  await removeEverywhere(ctx, key, sent, failed);
  return { owner: !owner, holder: holders.includes("self"), failed };
}

/**
 * removeEverywhere drops key from every other node's caches but those in skip, adding the peers that failed to failed.
 */
export async function removeEverywhere(
  ctx: WriteContext,
  key: string,
  skip: ReadonlySet<string>,
  failed: PeerFailure[],
): Promise<void> {
  const peers = ctx.peers?.remotePeers?.() ?? [];
  await Promise.all(
    peers
      .filter((p) => !skip.has(p.url))
      .map((p) =>
        p.remove
          ? p.remove(ctx.group, key).catch((err) => failed.push(ctx.failed(p.url, err)))
          : failed.push({ peer: p.url, error: "the transport cannot remove values" }),
      ),
  );
}

/**
 * peekCopies asks the nodes that hold copies of key's written value for their cached copy, in ring order; undefined
 * when none has it.
 */
export async function peekCopies(
  group: string,
  peers: PeerPicker | undefined,
  key: string,
): Promise<PeerResponse | undefined> {
  for (const holder of peers?.copyHolders?.(key) ?? []) {
    if (holder === "self" || !holder.peek) continue; // this node's own caches were looked at first
    const res = await holder.peek(group, key).catch(() => undefined);
    if (res) return res;
  }
  return undefined;
}

/**
 * takeOver finds key's value on another node before this one loads it from the source: at the
 * node that owned key before the ring changed (handoff), then at the copy holders of a written
 * value. Undefined when neither has it.
 */
export async function takeOver(
  group: string,
  peers: PeerPicker | undefined,
  key: string,
): Promise<PeerResponse | undefined> {
  if (!peers) return undefined;
  return (await peers.peekPrevious?.(group, key)) ?? (await peekCopies(group, peers, key));
}

/** failure builds a PeerFailure from an error. */
export function failure(peer: string, err: unknown): PeerFailure {
  return { peer, error: plainError(err, { peer }) };
}

/**
 * purgeEverywhere tells every other node to purge group at generation; it resolves with those that could not be told.
 */
export async function purgeEverywhere(
  group: string,
  peers: PeerPicker | undefined,
  generation: number,
): Promise<PeerFailure[]> {
  const failed: PeerFailure[] = [];
  await Promise.all(
    (peers?.remotePeers?.() ?? []).map((p) =>
      p.purge
        ? p.purge(group, generation).catch((err) => failed.push(failure(p.url, err)))
        : failed.push({ peer: p.url, error: "the transport cannot purge" }),
    ),
  );
  return failed;
}
