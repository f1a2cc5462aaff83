/**
 * PeerUpdate hands a discovery's current view of the cluster to the peer set: the peers' names on
 * the ring (URLs, self included or not) and, where a name is not where the peer is reached (SRV:
 * a pod's stable host name), the address to connect to.
 */
export type PeerUpdate = (urls: string[], addresses?: ReadonlyMap<string, string>) => void;

/**
 * Discovery finds the nodes of a cluster and reports every change through `update` until
 * `signal` aborts. The static list, DNS and any later mechanism all go through this one path.
 */
export interface Discovery {
  /** describe names the mechanism for logs: "static", "dns geecache.svc". */
  readonly describe: string;
  /** start reports the first view before it resolves (so a node starts with its peers) and later changes after. */
  start(update: PeerUpdate, signal: AbortSignal): Promise<void>;
}

/** staticPeers is the discovery of a fixed list: one update, then nothing. */
export function staticPeers(urls: readonly string[]): Discovery {
  return {
    describe: "static",
    async start(update) {
      update([...urls]);
    },
  };
}
