import type { Discovery } from "../cluster/discovery.ts";
import { staticPeers } from "../cluster/discovery.ts";
import { dnsDiscovery } from "../cluster/dns-discovery.ts";
import { fileDiscovery } from "../cluster/file-discovery.ts";
import type { Config } from "./config.ts";

/** PeerAddressing is how a discovered address becomes a peer URL: the scheme and port this node's peers listen on. */
export interface PeerAddressing {
  scheme: "http" | "https" | "grpc" | "grpcs";
  port: number;
}

/**
 * discoveryFrom picks the membership mechanism the flags ask for: --peers-dns / --peers-srv, a
 * --peers-file, or the static --peers list. warn receives what discovery reports (a failed
 * lookup, an unreadable file), once per change of state.
 */
export function discoveryFrom(
  config: Config,
  addressing: PeerAddressing,
  warn: (message: string) => void,
  self?: string,
): Discovery {
  if (config.peersDns) {
    return dnsDiscovery({
      name: config.peersDns.name,
      srv: config.peersDns.srv,
      port: config.peersDns.port ?? addressing.port,
      scheme: addressing.scheme,
      server: config.dnsServer,
      interval: config.dnsInterval,
      self,
      onEvent: warn,
    });
  }
  if (config.peersFile !== undefined)
    return fileDiscovery({ path: config.peersFile, interval: config.peersFileInterval, onError: warn });
  return staticPeers(config.peers);
}
