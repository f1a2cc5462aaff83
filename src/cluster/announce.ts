import type { MemberState } from "./peer-service.ts";
import type { TransportClient } from "./transport.ts";

/** ANNOUNCE_TIMEOUT bounds how long a node waits for its peers to take an announcement. */
export const ANNOUNCE_TIMEOUT = 1000;

/**
 * announce tells every member that speaks the extension (probed first when not yet known) that the
 * node named self leaves the ring or joins it (again), with its boot id; it resolves, within
 * ANNOUNCE_TIMEOUT, with the peers told. Go peers are never sent it; a peer that does not hear it
 * learns from its probes.
 */
export async function announce(
  members: ReadonlyMap<string, { client: TransportClient }>,
  self: string,
  state: MemberState,
  boot: string,
): Promise<string[]> {
  const signal = AbortSignal.timeout(ANNOUNCE_TIMEOUT);
  const told = await Promise.all(
    [...members].map(async ([url, { client: c }]) => {
      if (!c.announce) return undefined;
      try {
        if (c.extended === undefined) await c.probe?.(signal);
        if (c.extended !== true) return undefined;
        await c.announce(self, state, boot, signal);
        return url;
      } catch {
        return undefined;
      }
    }),
  );
  return told.filter((u): u is string => u !== undefined);
}
