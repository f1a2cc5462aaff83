import type { Setting } from "../core/settings.ts";

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

/** DiscoveryContext is what a node tells the discovery it builds: how its peers are addressed, and where to warn. */
export interface DiscoveryContext {
  /** scheme of this node's peer URLs ("http", "grpcs", ...). */
  scheme: string;
  /** port this node's peers listen on (its own port). */
  port: number;
  /** self is this node's URL on the ring. */
  self: string;
  /** warn receives what discovery reports (a failed lookup, an unreadable file), once per change of state. */
  warn(message: string): void;
}

/** DiscoveryOptions are a node's settings by option name (camelCase of the flag), as a discovery module reads them. */
export type DiscoveryOptions = Readonly<Record<string, unknown>>;

/**
 * DiscoveryModule is one way to find the nodes: the settings it adds, whether the options choose it
 * (its `flag` was given), and how to build it. A node uses the one module its options choose; a new
 * mechanism is a module and a line in the node's list.
 */
export interface DiscoveryModule {
  readonly name: string;
  /** flag is the setting that chooses this mechanism (named in errors). */
  readonly flag: string;
  readonly settings: readonly Setting[];
  chosen(options: DiscoveryOptions): boolean;
  /** check throws a settingError for options this mechanism cannot work with; given names the settings given. */
  check?(options: DiscoveryOptions, given: ReadonlySet<string>): void;
  create(options: DiscoveryOptions, context: DiscoveryContext): Discovery;
}

/** staticDiscovery is the fixed --peers list (none: a single node); it applies when no other mechanism is chosen. */
export const staticDiscovery: DiscoveryModule = {
  name: "static",
  flag: "peers",
  settings: [],
  chosen: (o) => ((o.peers as string[] | undefined) ?? []).length > 0,
  create: (o) => staticPeers((o.peers as string[] | undefined) ?? []),
};
