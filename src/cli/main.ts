#!/usr/bin/env bun
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { DEFAULT_PROBE_MAX, DEFAULT_PROBE_MIN } from "../cluster/health.ts";
import { PeerSet } from "../cluster/peer-set.ts";
import type { Listening } from "../cluster/transport.ts";
import { errorMessage } from "../core/errors.ts";
import { formatBytes } from "../core/units.ts";
import { Group } from "../group/group.ts";
import { Registry } from "../group/registry.ts";
import { startNode } from "../node/server.ts";
import { GcPacer } from "../observability/gc-pacer.ts";
import { loggedLoads } from "../observability/load-log.ts";
import { createLogger } from "../observability/log.ts";
import { NodeMetrics } from "../observability/metrics/node-metrics.ts";
import { redactUrl } from "../sources/redact.ts";
import { sourceFromSpec } from "../sources/spec.ts";
import { grpcTransport } from "../transport/grpc/index.ts";
import { httpTransport } from "../transport/http/index.ts";
import { type Config, resolveConfig, selfOverGrpc } from "./config.ts";
import { discoveryFrom } from "./discovery.ts";
import { FLAGS } from "./flags.ts";
import { runCli } from "./run.ts";

/** SHUTDOWN_GRACE is how long in-flight requests may take to finish after SIGINT or SIGTERM. */
const SHUTDOWN_GRACE_MS = 5000;

const command = defineCommand({
  meta: {
    name: "geecache",
    version: pkg.version,
    description:
      "A distributed in-memory cache node. Every flag can also be set as GEECACHE_<FLAG> (e.g. GEECACHE_CACHE_BYTES=1GiB); --help prints this, --version the version.",
  },
  args: FLAGS,
  run: ({ args }) => main(args as Record<string, unknown>),
});

async function main(args: Record<string, unknown>): Promise<void> {
  let config: Config;
  try {
    config = resolveConfig(args);
  } catch (err) {
    fail(2, errorMessage(err));
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config) });

  // One source per group: --source for the flags' one group, or each [[group]]'s of --config.
  const sources = config.groups.map((g) => {
    try {
      return sourceFromSpec(g.source, g.name, {
        query: g.query,
        poolSize: config.poolSize,
        timeout: config.sourceTimeout,
      });
    } catch (err) {
      fail(
        2,
        `${config.groups.length > 1 ? `group ${g.name}: ` : ""}--source ${redactUrl(g.source)}: ${errorMessage(err)}`,
      );
    }
  });

  const metrics = new NodeMetrics();
  // bootId travels with this node's answers to peers: a new one tells them it restarted.
  const bootId = crypto.randomUUID();
  const http = httpTransport({
    basePath: config.basePath,
    timeout: config.peerTimeout,
    token: config.token,
    maxValueBytes: config.maxValueBytes,
    tls: config.tlsCa ? { ca: config.tlsCa } : undefined,
    bootId,
  });
  // grpc:// peers are spoken to over gRPC; http:// peers keep the HTTP transport.
  const grpc =
    config.grpcPort === undefined
      ? undefined
      : grpcTransport({
          timeout: config.peerTimeout,
          token: config.token,
          maxValueBytes: config.maxValueBytes,
          tls: config.tlsCa ? { ca: config.tlsCa } : undefined,
          bootId,
        });
  const overGrpc = selfOverGrpc(config.peers, config.grpcPort);
  const pool = new PeerSet({
    transports: grpc ? [http, grpc] : [http],
    onPeerRequest: metrics.onPeerRequest,
    self: config.self,
    hash: config.hash,
    replicas: config.replicas,
    health: {
      // A down peer is probed at least every half --hot-ttl: once it is back, nodes agree again well within that bound.
      probeMax: Math.max(DEFAULT_PROBE_MIN, Math.min(DEFAULT_PROBE_MAX, config.hotTtl / 2)),
      onDown: (peer, h) =>
        log.warn(
          `peer ${peer} is down after ${h.failures} failed requests in a row (last: ${h.lastError}); its keys are served here until a probe answers`,
          { peer, status: "down", failures: h.failures, error: h.lastError },
        ),
      onUp: (peer, downMs, failures) => {
        // Values loaded here while it was down may differ from its own: they go now, not at --hot-ttl.
        const dropped = registry.groups().reduce((n, g) => n + g.dropHot((key) => pool.owner(key) === peer), 0);
        log.info(
          `peer ${peer} answers again after ${(downMs / 1000).toFixed(1)} s down (${failures} failed requests meanwhile); dropped ${dropped} copies of its keys`,
          { peer, status: "up", duration_ms: downMs, failures, dropped },
        );
      },
      onRestart: (peer) => {
        const dropped = registry.groups().reduce((n, g) => n + g.dropHot((key) => pool.owner(key) === peer), 0);
        log.info(`peer ${peer} restarted: dropped ${dropped} hot copies of its keys`, {
          peer,
          status: "restarted",
          dropped,
        });
      },
    },
    copies: config.copies,
    // Two DNS polls (a change must be seen twice) and a peer timeout: the previous owner may still be peeked.
    handoffWindow: 2 * config.dnsInterval + config.peerTimeout,
  });
  const peerScheme = overGrpc ? (config.tls ? "grpcs" : "grpc") : config.tls ? "https" : "http";
  const registry = new Registry();
  const loads = config.groups.map((g, i) =>
    loggedLoads(log, g.name, metrics.timeLoads(g.name, sources[i]!.getter), { source: sources[i]!.describe }),
  );
  config.groups.forEach((g, i) =>
    registry.add(
      new Group({
        name: g.name,
        cacheBytes: g.cacheBytes,
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
  const budget = config.groups.reduce((n, g) => n + g.cacheBytes, 0);
  const groupsText =
    config.groups.length === 1
      ? `group ${config.groups[0]!.name}, budget ${formatBytes(budget)}, source ${sources[0]!.describe}`
      : `groups ${config.groups.map((g, i) => `${g.name} (${formatBytes(g.cacheBytes)}, ${sources[i]!.describe})`).join(", ")}`;

  // The gRPC listener opens first: on --grpc-port=0 its URL names this node before the HTTP one could.
  let grpcListening: Listening | undefined;
  if (grpc) {
    try {
      grpcListening = await grpc.listen!(registry, { host: config.host, port: config.grpcPort!, tls: config.tls });
    } catch (err) {
      fail(2, `cannot listen for gRPC on ${config.host}:${config.grpcPort}: ${errorMessage(err)}`);
    }
    if (overGrpc && pool.self === "") pool.setSelf(grpcListening.url);
  }

  let node: ReturnType<typeof startNode>;
  try {
    node = startNode({
      registry,
      pool,
      metrics: config.metrics ? metrics : false,
      host: config.host,
      port: config.port,
      apiPort: config.api ? config.apiPort : undefined,
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
      maxBatchKeys: config.maxBatchKeys,
      apiToken: config.apiToken,
      apiReadToken: config.apiReadToken,
      tls: config.tls,
      peerCa: config.tlsCa,
      onWriteFailed: (w) => {
        const peers = w.failed.map((f) => f.peer);
        const error = w.failed.map((f) => `${f.peer}: ${f.error}`).join("; ");
        log.warn(
          `write ${w.method} ${w.group}/${JSON.stringify(w.key)} answered ${w.ownerFailed ? "502 (its owner is unreachable)" : "200 with failed peers"}: could not reach ${error}`,
          {
            group: w.group,
            key: w.key,
            method: w.method,
            status: w.ownerFailed ? 502 : 200,
            peer: peers[0],
            peers,
            error,
          },
        );
      },
    });
  } catch (err) {
    fail(
      2,
      `cannot listen on ${config.host}:${config.port}${config.api ? ` and ${config.apiPort}` : ""}: ${errorMessage(err)}`,
    );
  }

  // Discovery starts once this node knows its own address (it may have listened on port 0).
  const discovery = discoveryFrom(
    config,
    {
      scheme: peerScheme,
      port: config.peersDns?.port ?? Number(new URL(overGrpc && grpcListening ? grpcListening.url : node.url).port),
    },
    (message) => log.warn(message),
    pool.self,
  );
  const discoveryStop = new AbortController();
  let started = false;
  await discovery.start((urls, addresses) => {
    const change = pool.setPeers(urls, addresses);
    if (started && (change.joined.length || change.left.length)) {
      log.info(
        `membership (${discovery.describe}): ${change.joined.length ? `joined ${change.joined.join(",")}` : ""}${change.joined.length && change.left.length ? "; " : ""}${change.left.length ? `left ${change.left.join(",")}` : ""}; ${change.peers.length} nodes`,
        { joined: change.joined, left: change.left, nodes: change.peers.length },
      );
    }
  }, discoveryStop.signal);
  started = true;

  if (config.peers.length > 0 && pool.self !== "" && !config.peers.includes(pool.self)) {
    log.warn(
      `--peers does not list this node (${pool.self}); it is on the ring anyway. List every node, this one included, on every node`,
    );
  }
  log.info(
    `listening on ${node.url}${node.apiUrl !== node.url ? `, API on ${node.apiUrl}` : ""}${grpcListening ? `, gRPC on ${grpcListening.url}` : ""}; self ${pool.self}, peers ${pool.peers().join(",")}; ${groupsText}, hash ${config.hash}${config.ttl ? `, ttl ${config.ttl} ms` : ""}${config.token ? ", peer token on" : ""}${config.tls ? ", tls on" : ""}`,
  );

  // Under churn evicted values pile up as garbage far past the budget unless collected (gc-pacer.ts).
  const evictions = () =>
    registry.groups().reduce((n, g) => {
      const c = g.cacheStats();
      return n + c.main.evictions + c.hot.evictions;
    }, 0);
  new GcPacer({ budget, evictions }).start();

  let stopping = false;
  let endDrain: (() => void) | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) return endDrain?.(); // a second signal cuts the drain short
    stopping = true;
    if (signal === "SIGTERM" && config.drain > 0) {
      // Leave gracefully: report not ready so endpoints and peers drop this node, while still serving.
      node.drain();
      log.info(`${signal}: draining for ${config.drain} ms (/readyz answers 503; requests are still served)`, {
        signal,
        phase: "drain_start",
        duration_ms: config.drain,
      });
      const drainStart = performance.now();
      const { promise, resolve } = Promise.withResolvers<void>();
      endDrain = resolve;
      const timer = setTimeout(resolve, config.drain);
      await promise;
      clearTimeout(timer);
      const drained = Math.round(performance.now() - drainStart);
      log.info(
        `${signal}: drain ended after ${drained} ms${drained < config.drain - 1 ? " (cut short by a second signal)" : ""}`,
        { signal, phase: "drain_end", duration_ms: drained },
      );
    }
    discoveryStop.abort();
    log.info(`${signal}: finishing in-flight requests (at most ${SHUTDOWN_GRACE_MS} ms)`, {
      signal,
      phase: "in_flight",
    });
    const stopStart = performance.now();
    // The source (a PostgreSQL pool) closes after the in-flight requests that may still be loading.
    const stopped = Promise.all([node.stop(), grpcListening?.close()])
      .then(() => Promise.all([...sources.map((s) => s.close?.()), pool.close()]))
      .then(() => true)
      .catch(
        (err) =>
          void log.warn(`shutdown: ${errorMessage(err)}`, { signal, phase: "in_flight", error: errorMessage(err) }),
      );
    const done = await Promise.race([stopped, Bun.sleep(SHUTDOWN_GRACE_MS).then(() => false as const)]);
    const took = Math.round(performance.now() - stopStart);
    if (done === false)
      log.warn(`${signal}: requests still in flight after ${took} ms; exiting anyway`, {
        signal,
        phase: "in_flight_timeout",
        duration_ms: took,
      });
    else
      log.info(`${signal}: in-flight requests finished in ${took} ms`, {
        signal,
        phase: "in_flight_done",
        duration_ms: took,
      });
    loads.forEach((l) => l.flush()); // source failures not yet reported
    log.info(`${signal}: exiting with code 0`, { signal, phase: "exit", status: 0 });
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

/** secretsOf lists what the log must never show: the tokens and the source URL's password. */
function secretsOf(config: Config): string[] {
  const out = [config.token, config.apiToken, config.apiReadToken].filter((s): s is string => !!s);
  try {
    for (const g of config.groups) {
      const password = URL.canParse(g.source) ? new URL(g.source).password : "";
      if (password) out.push(password, decodeURIComponent(password));
    }
  } catch {
    // a password that is not percent-encoded: its raw form is listed
  }
  return out;
}

function fail(code: number, message: string): never {
  process.stderr.write(`geecache: ${message}\n`);
  process.exit(code);
}

await runCli(command, { name: "geecache", version: pkg.version, description: "A distributed in-memory cache node." });
