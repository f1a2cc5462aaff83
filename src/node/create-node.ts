import type { ConsolaInstance } from "consola";
import { DEFAULT_PROBE_MAX, DEFAULT_PROBE_MIN, NODE_PROBE_INTERVAL } from "../cluster/health.ts";
import type { MemberState } from "../cluster/peer-service.ts";
import { PeerSet } from "../cluster/peer-set.ts";
import { refusalLog } from "../cluster/refusals.ts";
import type { Listening } from "../cluster/transport.ts";
import { schemeOf } from "../cluster/transport-module.ts";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { formatBytes, formatElapsed } from "../core/units.ts";
import { Group } from "../group/group.ts";
import { Registry } from "../group/registry.ts";
import { GcPacer } from "../observability/gc-pacer.ts";
import { loggedLoads } from "../observability/load-log.ts";
import { NodeMetrics } from "../observability/metrics/node-metrics.ts";
import { redactUrl } from "../sources/redact.ts";
import { type Source, sourceFromSpec } from "../sources/spec.ts";
import { healthLogs, logMembership, logUp, logView, logWriteFailed } from "./cluster-logs.ts";
import type { NodeConfig } from "./config.ts";
import { handOver, keepOwnedOnly } from "./handover.ts";
import { listenError } from "./listen-error.ts";
import { BUILTIN_MODULES, chosenDiscovery, enabledTransports, type NodeModules, selfTransport } from "./modules.ts";
import { protectedMode } from "./protected-mode.ts";
import { type RespServer, respListener } from "./resp/server.ts";
import { type RunningNode, startNode } from "./server.ts";
import { shutdown } from "./shutdown.ts";
import { Snapshots } from "./snapshot.ts";
import type { WorkerPool } from "./workers/pool.ts";
import { copiesBudget, startWorkers } from "./workers/start.ts";

/** LATE_WRITES_MS is how long a leaving node waits for writes sent before its peers heard it leaves. */
const LATE_WRITES_MS = 250;
/** HANDBACK_MS bounds how long a node sends a peer back in the ring the values it held for its keys. */
const HANDBACK_MS = 5000;

/** CreateNodeOptions are what a node is built from besides its settings: its modules and its logger. */
export interface CreateNodeOptions {
  modules?: NodeModules;
  log: ConsolaInstance;
  /** workerEntry is the module worker threads run (--workers above 1): the CLI's entry, which calls runWorker. */
  workerEntry?: string | URL;
}

/** GeeCacheNode is a node that serves: its addresses, its cluster and groups, and how to stop it. */
export interface GeeCacheNode {
  /** url of the main listener (peer routes and API), apiUrl of the API listener. */
  url: string;
  apiUrl: string;
  /** self is this node's name on the ring. */
  self: string;
  peers: PeerSet;
  registry: Registry;
  /** stop drains (on SIGTERM), stops listening and closes; a second call cuts the drain short. */
  stop(signal: string): Promise<void>;
}

/**
 * createNode builds and starts a node from its settings and a list of modules: the sources of its
 * groups, its peer transports (listeners of their own first, so a node on port 0 is named by the
 * one its peers use), the main listener, then discovery once the node knows its own address. A
 * node that cannot start throws a GeeCacheError whose message is one line for the operator.
 */
export async function createNode(config: NodeConfig, options: CreateNodeOptions): Promise<GeeCacheNode> {
  const modules = options.modules ?? BUILTIN_MODULES;
  const { log } = options;
  const sources = config.groups.map((g): Source => {
    try {
      return sourceFromSpec(
        g.source,
        g.name,
        { query: g.query, poolSize: config.poolSize, timeout: config.sourceTimeout },
        modules.sources,
      );
    } catch (err) {
      const where = config.groups.length > 1 ? `group ${g.name}: ` : "";
      throw new GeeCacheError("INVALID_ARGUMENT", `${where}--source ${redactUrl(g.source)}: ${errorMessage(err)}`, {
        cause: err,
        flag: "source",
      });
    }
  });

  const metrics = new NodeMetrics();
  const o = config as unknown as Readonly<Record<string, unknown>>;
  // bootId travels with this node's answers to peers: a new one tells them it restarted.
  const context = {
    timeout: config.peerTimeout,
    token: config.token,
    maxValueBytes: config.maxValueBytes,
    tlsCa: config.tlsCa,
    bootId: crypto.randomUUID(),
    refused: refusalLog((message) => log.warn(message, { status: 401 })),
  };
  const enabled = enabledTransports(o, modules);
  const transports = enabled.map((t) => t.create(o, context));
  const registry = new Registry();
  let pool: PeerSet;
  let workers: WorkerPool | undefined; // --workers above 1: the threads sharing the ports; a ring change stales copies
  const discovery = chosenDiscovery(o, modules);
  pool = new PeerSet({
    transports,
    onPeerRequest: metrics.onPeerRequest,
    self: config.self,
    hash: config.hash,
    replicas: config.replicas,
    health: {
      // Each peer that is up is probed in the background: one that stops answering leaves the ring within 2 s.
      probeInterval: NODE_PROBE_INTERVAL,
      // A down peer is probed at least every half --hot-ttl: once it is back, nodes agree again well within that bound.
      probeMax: Math.max(DEFAULT_PROBE_MIN, Math.min(DEFAULT_PROBE_MAX, config.hotTtl / 2)),
      ...healthLogs(log, registry, (key) => pool.owner(key)),
    },
    copies: config.copies,
    handoffWindow: config.handoffWindow,
    onChange: () => workers?.changed(undefined), // any change of the ring (a leave too) stales the workers' copies
    onView: (change) => {
      logView(log, change);
      // A peer back in the ring gets what this node took for its keys while it was out (written values win by
      // time); those entries leave the main cache here at once, so a get here never serves them again.
      if (change.out === undefined && !pool.leaving) {
        const moved = keepOwnedOnly(registry, (k) => pool.owner(k) === pool.self);
        const limits = { until: performance.now() + HANDBACK_MS, maxBytes: config.handoverBytes };
        void handOver(registry, pool, limits, change.peer, moved);
      }
    },
  });
  const loads = config.groups.map((g, i) =>
    loggedLoads(log, g.name, metrics.timeLoads(g.name, sources[i]!.getter), { source: sources[i]!.describe }),
  );
  config.groups.forEach((g, i) =>
    registry.add(
      new Group({
        name: g.name,
        cacheBytes: g.cacheBytes,
        reservedBytes: copiesBudget(g.cacheBytes, config.workers),
        ttl: g.ttl,
        stale: g.stale,
        hotCacheRatio: config.hotCacheRatio,
        hotQps: config.hotQps,
        admission: g.admission,
        hotTtl: g.hotTtl,
        peers: pool,
        getter: loads[i]!.getter,
      }),
    ),
  );

  // Peers are answered from the registry's groups; their announcements (leaving, joining) change the ring.
  const peerGroups = {
    get: (name: string) => registry.get(name),
    member: (peer: string, state: MemberState, boot: string) => pool.heard(peer, state, boot),
  };
  // A snapshot is loaded before the node listens: it is ready only once warm.
  const snapshots = config.snapshot ? new Snapshots(config.snapshot, registry, log) : undefined;
  await snapshots?.load();
  snapshots?.every(config.snapshotInterval);

  // Transports with listeners of their own open first: on port 0 their URL may be this node's name.
  const named = selfTransport(o, modules);
  const { protection, refuse } = protectedMode(config, log); // without tokens, what other hosts may not do
  const own: Listening[] = [];
  const labels: string[] = [];
  for (const [i, t] of enabled.entries()) {
    const port = t.ownPort?.(o);
    const transport = transports[i]!;
    if (port === undefined || !transport.listen) continue;
    try {
      const listening = await transport.listen(peerGroups, { host: config.host, port, tls: config.tls, refuse });
      own.push(listening);
      labels.push(`${t.label ?? t.name} on ${listening.url}`);
      if (t === named && pool.self === "") pool.setSelf(listening.url);
    } catch (err) {
      await Promise.all(own.map((l) => l.close()));
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `cannot listen for ${t.name} on ${config.host}:${port}: ${errorMessage(err)}`,
      );
    }
  }

  let node: RunningNode;
  const shared = config.workers > 1 ? { requests: 0 } : undefined;
  try {
    node = startNode({
      registry,
      peers: pool,
      peerGroups,
      bootId: context.bootId,
      snapshot: snapshots && (() => snapshots.last),
      metrics: config.metrics ? metrics : false,
      host: config.host,
      port: config.port,
      apiPort: config.api ? config.apiPort : undefined,
      shared,
      workers: () => workers?.figures(),
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
      maxBatchKeys: config.maxBatchKeys,
      apiToken: config.apiToken,
      apiReadToken: config.apiReadToken,
      tls: config.tls,
      protection,
      accessLog: config.accessLog,
      onWriteFailed: logWriteFailed(log),
    });
  } catch (err) {
    await Promise.all(own.map((l) => l.close()));
    throw await listenError(err, config);
  }
  node.joining(true); // until its workers listen and it has told its peers it is back (below)
  let resp: RespServer | undefined; // Redis clients, through the same groups and cluster as /api
  try {
    const owns = (key: string) => pool.owner(key) === pool.self;
    if (shared) workers = await startWorkers({ config, node, registry, owns, shared, log, entry: options.workerEntry });
    const parts = { registry, owner: (key: string) => pool.owner(key), metrics: metrics.resp, protection };
    resp = respListener(config, { ...parts, onWriteFailed: logWriteFailed(log) });
  } catch (err) {
    await Promise.all([node.stop(), workers?.stop(), ...own.map((l) => l.close())]);
    throw err;
  }
  if (resp) labels.push(`RESP on ${resp.url}`);

  // Discovery starts once this node knows its own address (it may have listened on port 0).
  const self = pool.self;
  const found = discovery.create(o, {
    scheme: schemeOf(self),
    port: Number(new URL(self.replace(/^[a-z]+:/, "http:")).port),
    self,
    warn: (message) => log.warn(message),
  });
  const discoveryStop = new AbortController();
  let started = false;
  await found.start((urls, addresses) => {
    const change = pool.setPeers(urls, addresses);
    if (!started) return;
    logMembership(log, found.describe, change);
    // Keys a node that joined owns now stay here only for its handoff peeks.
    if (change.joined.length > 0) keepOwnedOnly(registry, (k) => pool.owner(k) === pool.self);
  }, discoveryStop.signal);
  started = true;
  // A snapshot may hold keys that other nodes own now: they are kept only for the handoff (peeked, never served).
  if (snapshots && pool.peers().length > 1) snapshots.keepOwned((key) => pool.owner(key) === self);
  // A node that restarts tells its peers at once that it is back, instead of waiting for their probes; it is
  // ready (/readyz 200) once they route its keys to it again, or once the announcement has timed out.
  if (pool.peers().length > 1) void pool.announce("joining", context.bootId).finally(() => node.joining(false));
  else node.joining(false);

  if (config.peers.length > 0 && !config.peers.includes(self))
    log.warn(
      `--peers does not list this node (${self}); it is on the ring anyway. List every node, this one included, on every node`,
    );
  logUp(log, config, node, labels, pool, sources);

  // Under churn evicted values pile up as garbage far past the budget unless collected (gc-pacer.ts).
  const budget = config.groups.reduce((n, g) => n + g.cacheBytes, 0);
  new GcPacer({ budget, evictions: () => registry.evictions() }).start();

  // Drain only when someone may be listening: peers, or a discovery that may bring some.
  const alone = discovery === modules.discoveries[0] && config.peers.filter((p) => p !== self).length === 0;
  const stop = shutdown(
    {
      drain: alone ? 0 : config.drain,
      startDrain: () => node.drain(),
      leave: async (until) => {
        pool.leave();
        const told = await pool.announce("leaving", context.bootId);
        const sent = await handOver(registry, pool, { until, maxBytes: config.handoverBytes });
        // Writes that peers sent before they heard of the leave may still land here: a second pass sends the
        // written values again (a newer write at the new owner wins over them).
        await Bun.sleep(Math.min(LATE_WRITES_MS, Math.max(0, until - performance.now())));
        const late = await handOver(registry, pool, { until, maxBytes: config.handoverBytes, writtenOnly: true });
        sent.sent += late.sent;
        sent.failed += late.failed;
        log.info(
          `leaving: told ${told.length} peers; handed over ${sent.sent} entries (${formatBytes(sent.bytes)}) in ${formatElapsed(sent.ms)}${sent.failed ? `, ${sent.failed} failed` : ""}${sent.left ? `, ${sent.left} left` : ""}`,
          {
            phase: "handover",
            peers: told,
            sent: sent.sent,
            bytes: sent.bytes,
            failed: sent.failed,
            left: sent.left,
            duration_ms: sent.ms,
          },
        );
      },
      stopDiscovery: () => discoveryStop.abort(),
      stopListening: () => Promise.all([node.stop(), workers?.stop(), ...own.map((l) => l.close()), resp?.stop()]),
      close: () => Promise.all([...sources.map((s) => s.close?.()), pool.close()]),
      save: async () => {
        snapshots?.stop();
        await snapshots?.save("shutdown");
      },
      flush: () => loads.forEach((l) => l.flush()), // source failures not yet reported
    },
    log,
  );
  return { url: node.url, apiUrl: node.apiUrl, self, peers: pool, registry, stop };
}
