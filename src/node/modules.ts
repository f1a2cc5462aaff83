import { type DiscoveryModule, staticDiscovery } from "../cluster/discovery.ts";
import { dnsDiscoveryModule } from "../cluster/dns-discovery.ts";
import { fileDiscoveryModule } from "../cluster/file-discovery.ts";
import { CLUSTER_SETTINGS } from "../cluster/settings.ts";
import { type TransportModule, transportFor } from "../cluster/transport-module.ts";
import { type Setting, settingError } from "../core/settings.ts";
import { GROUP_SETTINGS } from "../group/settings.ts";
import { LOG_SETTINGS } from "../observability/settings.ts";
import { SOURCE_MODULES, SOURCE_SETTINGS, type SourceModule } from "../sources/spec.ts";
import { grpcTransportModule } from "../transport/grpc/module.ts";
import { httpTransportModule } from "../transport/http/module.ts";
import { RESP_SETTINGS } from "./resp/settings.ts";
import { NODE_SETTINGS } from "./settings.ts";
import { SNAPSHOT_SETTINGS } from "./snapshot.ts";
import { WORKER_SETTINGS } from "./workers/settings.ts";

/**
 * NodeModules are what a node is built from: its peer transports (the first answers on the node's
 * HTTP listener), its discovery mechanisms (static first: the fallback), and its kinds of source.
 */
export interface NodeModules {
  transports: readonly TransportModule[];
  discoveries: readonly DiscoveryModule[];
  sources: readonly SourceModule[];
}

/** BUILTIN_MODULES register every transport, discovery mechanism and source geecache ships: one line each. */
export const BUILTIN_MODULES: NodeModules = {
  transports: [httpTransportModule, grpcTransportModule],
  discoveries: [staticDiscovery, fileDiscoveryModule, dnsDiscoveryModule],
  sources: SOURCE_MODULES,
};

/** Options are a node's settings by option name, as parsed from its Settings. */
export type Options = Readonly<Record<string, unknown>>;

/** settingsOf lists every setting of a node built from modules, in --help order. */
export function settingsOf(modules: NodeModules): Setting[] {
  return [
    ...NODE_SETTINGS,
    ...WORKER_SETTINGS,
    ...CLUSTER_SETTINGS,
    ...modules.discoveries.flatMap((d) => d.settings),
    ...modules.transports.flatMap((t) => t.settings),
    ...GROUP_SETTINGS,
    ...SOURCE_SETTINGS,
    ...SNAPSHOT_SETTINGS,
    ...RESP_SETTINGS,
    ...LOG_SETTINGS,
  ];
}

/** chosenDiscovery is the one discovery mechanism the options choose (the static list when none is). */
export function chosenDiscovery(o: Options, modules: NodeModules): DiscoveryModule {
  const chosen = modules.discoveries.filter((d) => d.chosen(o));
  return chosen.at(-1) ?? modules.discoveries[0]!;
}

/** enabledTransports are the transports the options turn on. */
export function enabledTransports(o: Options, modules: NodeModules): TransportModule[] {
  return modules.transports.filter((t) => t.enabled?.(o) ?? true);
}

/**
 * checkOptions applies the rules that tie settings together: TLS needs a certificate and a key, one
 * discovery mechanism at most, and every peer URL spoken by a transport this node runs. A broken
 * rule throws a settingError naming the setting to change.
 */
export function checkOptions(o: Options, given: ReadonlySet<string>, modules: NodeModules): void {
  if (given.has("tls-cert") !== given.has("tls-key"))
    throw settingError(given.has("tls-cert") ? "tls-cert" : "tls-key", "needs --tls-cert and --tls-key together");
  const chosen = modules.discoveries.filter((d) => d.chosen(o));
  if (chosen.length > 1) {
    const [first, second] = chosen.slice(-2) as [DiscoveryModule, DiscoveryModule];
    throw settingError(second.flag, `cannot be used with --${first.flag}: list the nodes in one place`);
  }
  for (const d of chosen) d.check?.(o, given);
  const urls = [...((o.peers as string[] | undefined) ?? []), ...(o.self === undefined ? [] : [o.self as string])];
  const schemes = modules.transports.flatMap((t) => t.schemes.map((s) => `${s}://`)).join(", ");
  for (const url of urls) {
    const t = transportFor(modules.transports, url);
    const flag = url === o.self ? "self" : "peers";
    if (!t) throw settingError(flag, `has ${JSON.stringify(url)}, which no transport speaks: use ${schemes}`);
    if (!(t.enabled?.(o) ?? true))
      throw settingError(
        t.settings[0]!.name,
        `is needed for ${t.name} peers such as ${url}: this node must serve ${t.name} too`,
      );
  }
}

/**
 * selfTransport is the transport this node is named by on the ring: one with a listener of its
 * own when the peers use its scheme (or there are no peers), else the first (the node's HTTP
 * listener).
 */
export function selfTransport(o: Options, modules: NodeModules): TransportModule {
  const peers = (o.peers as string[] | undefined) ?? [];
  const own = enabledTransports(o, modules).find(
    (t) =>
      t.ownPort?.(o) !== undefined &&
      (peers.length === 0 || peers.some((p) => transportFor(modules.transports, p) === t)),
  );
  return own ?? modules.transports[0]!;
}

/**
 * defaultSelf is this node's URL when --self is not given: the self transport's scheme (its TLS one
 * with --tls-cert), the host (127.0.0.1 for a wildcard address) and its port; undefined while the
 * port is 0 and not yet known.
 */
export function defaultSelf(o: Options, modules: NodeModules, listeningPort?: number): string | undefined {
  const t = selfTransport(o, modules);
  const port = listeningPort ?? t.ownPort?.(o) ?? (o.port as number);
  if (port === 0) return undefined;
  const host = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : (o.host as string);
  return `${t.schemes[o.tlsCert !== undefined ? 1 : 0]}://${host}:${port}`;
}
