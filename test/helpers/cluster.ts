// The one in-process cluster helper: N nodes on port 0 of 127.0.0.1, each told the others' URLs
// once all are listening (so no port is ever reserved and released).

import type { PeerObserver } from "../../src/cluster/observe.ts";
import { PeerSet, type PeerSetOptions } from "../../src/cluster/peer-set.ts";
import type { Listening, PeerTransport } from "../../src/cluster/transport.ts";
import { Group } from "../../src/group/group.ts";
import type { Getter } from "../../src/group/loader.ts";
import type { GroupOptions } from "../../src/group/options.ts";
import { Registry } from "../../src/group/registry.ts";
import { type NodeOptions, type RunningNode, startNode } from "../../src/node/server.ts";
import { httpTransport } from "../../src/transport/http/index.ts";
import { keyOwnedBy } from "./owned-keys.ts";

/** TestNode is one started node of a TestCluster. */
export interface TestNode {
  /** url is the node's name on the ring: its gRPC listener's URL when its transport listens, else its HTTP URL. */
  url: string;
  /** httpUrl is the node's HTTP listener (API, /stats), whatever its transport. */
  httpUrl: string;
  listeners: Listening[];
  apiUrl: string;
  group: Group;
  registry: Registry;
  peers: PeerSet;
  running: RunningNode;
}

/** ClusterOptions shape every node of a test cluster; functions of the node's index make nodes differ. */
export interface ClusterOptions {
  /** getter loads values on node i (default: the key upper-cased). */
  getter?: (i: number) => Getter;
  /** peerSet adds options to node i's PeerSet (copies, health, handoff window). */
  peerSet?: (i: number) => Partial<PeerSetOptions>;
  /** group adds options to the group "scores" of node i. */
  group?: (i: number) => Partial<GroupOptions>;
  /** transport makes node i's peer transport (default: HTTP with default settings). */
  transport?: (i: number) => PeerTransport;
  /** node adds options to startNode for node i. */
  node?: (i: number) => Partial<NodeOptions>;
  onPeerRequest?: (i: number) => PeerObserver;
  hash?: "wyhash" | "crc32";
}

/** TestCluster is a started cluster; `await using` stops every node. */
export interface TestCluster extends AsyncDisposable {
  nodes: TestNode[];
  urls: string[];
  /** ownerIndex returns the index of the node that owns key. */
  ownerIndex(key: string): number;
  /** keyOwnedBy finds a key (prefix + a number) that node i owns. */
  keyOwnedBy(i: number, prefix?: string): string;
  /** stopNode stops node i alone (its peers keep it on their rings: a peer that went down); stop() skips it later. */
  stopNode(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** startCluster starts n nodes, each with the group "scores", and links them once all listen. */
export async function startCluster(n: number, options: ClusterOptions = {}): Promise<TestCluster> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < n; i++) {
    const registry = new Registry();
    const peers = new PeerSet({
      transports: [options.transport?.(i) ?? httpTransport()],
      hash: options.hash,
      onPeerRequest: options.onPeerRequest?.(i),
      ...options.peerSet?.(i),
    });
    const group = registry.add(
      new Group({
        name: "scores",
        getter: options.getter?.(i) ?? ((key) => key.toUpperCase()),
        peers,
        ...options.group?.(i),
      }),
    );
    // A transport with a listener of its own (gRPC) names the node on the ring; HTTP's routes ride on the node's
    // listener.
    const listeners: Listening[] = [];
    for (const t of peers.transports) {
      if (!t.listen) continue;
      const l = await t.listen(registry, { host: "127.0.0.1", port: 0 });
      listeners.push(l);
      if (peers.self === "") peers.setSelf(l.url);
    }
    const running = startNode({ registry, peers, port: 0, sweepInterval: 0, ...options.node?.(i) });
    nodes.push({
      url: peers.self,
      httpUrl: running.url,
      apiUrl: running.apiUrl,
      group,
      registry,
      peers,
      running,
      listeners,
    });
  }
  const urls = nodes.map((node) => node.url);
  for (const node of nodes) node.peers.setPeers(urls);
  const ownerIndex = (key: string) => urls.indexOf(nodes[0]!.peers.owner(key));
  const stopped = new Map<number, Promise<void>>(); // each node is stopped once
  const stopNode = (i: number): Promise<void> => {
    let p = stopped.get(i);
    if (!p) {
      const node = nodes[i]!;
      p = (async () => {
        await node.running.stop();
        await Promise.all(node.listeners.map((l) => l.close()));
        await node.peers.close();
      })();
      stopped.set(i, p);
    }
    return p;
  };
  const stop = async () => {
    await Promise.all(nodes.map((_, i) => stopNode(i)));
  };
  return {
    nodes,
    urls,
    ownerIndex,
    keyOwnedBy: (i, prefix) => keyOwnedBy(nodes[0]!.peers, urls[i]!, prefix),
    stopNode,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
