import type { ConsolaInstance } from "consola";
import type { HealthOptions } from "../cluster/health.ts";
import type { MembershipChange, PeerSet, ViewChange } from "../cluster/peer-set.ts";
import { formatBytes, formatDuration } from "../core/units.ts";
import type { Registry } from "../group/registry.ts";
import type { Source } from "../sources/spec.ts";
import type { ApiOptions } from "./api.ts";
import type { NodeConfig } from "./config.ts";
import type { RunningNode } from "./server.ts";

/**
 * healthLogs are the peer-health callbacks of a node: each logs what happened, and a peer back up
 * (or restarted) has the copies of its keys served here dropped, so nodes agree again at once.
 */
export function healthLogs(
  log: ConsolaInstance,
  registry: Registry,
  ownerOf: (key: string) => string | undefined,
): Pick<HealthOptions, "onDown" | "onUp" | "onRestart"> {
  const dropCopies = (peer: string) => registry.groups().reduce((n, g) => n + g.dropHot((k) => ownerOf(k) === peer), 0);
  return {
    onDown: (peer, h) =>
      log.warn(
        `peer ${peer} is down after ${h.failures} failed requests in a row (last: ${h.lastError}); its keys are served here until a probe answers`,
        { peer, status: "down", failures: h.failures, error: h.lastError },
      ),
    onUp: (peer, downMs, failures) => {
      // Values loaded here while it was down may differ from its own: they go now, not at --hot-ttl.
      const dropped = dropCopies(peer);
      log.info(
        `peer ${peer} answers again after ${(downMs / 1000).toFixed(1)} s down (${failures} failed requests meanwhile); dropped ${dropped} copies of its keys`,
        { peer, status: "up", duration_ms: downMs, failures, dropped },
      );
    },
    onRestart: (peer) => {
      const dropped = dropCopies(peer);
      log.info(`peer ${peer} restarted: dropped ${dropped} hot copies of its keys`, {
        peer,
        status: "restarted",
        dropped,
      });
    },
  };
}

/** logMembership logs a change of the ring that discovery reported (nothing when nothing changed). */
export function logMembership(log: ConsolaInstance, describe: string, change: MembershipChange): void {
  const { joined, left } = change;
  if (!joined.length && !left.length) return;
  const parts = [joined.length ? `joined ${joined.join(",")}` : "", left.length ? `left ${left.join(",")}` : ""];
  log.info(`membership (${describe}): ${parts.filter(Boolean).join("; ")}; ${change.peers.length} nodes`, {
    joined,
    left,
    nodes: change.peers.length,
  });
}

/** logWriteFailed is told of each API write that could not reach the key's owner or some copy holders. */
export function logWriteFailed(log: ConsolaInstance): NonNullable<ApiOptions["onWriteFailed"]> {
  return (w) => {
    const peers = w.failed.map((f) => f.peer);
    const error = w.failed.map((f) => `${f.peer}: ${f.error}`).join("; ");
    const answered = w.ownerFailed ? "502 (its owner is unreachable)" : "200 with failed peers";
    log.warn(`write ${w.method} ${w.group}/${JSON.stringify(w.key)} answered ${answered}: could not reach ${error}`, {
      group: w.group,
      key: w.key,
      method: w.method,
      status: w.ownerFailed ? 502 : 200,
      peer: peers[0],
      peers,
      error,
    });
  };
}

/** logView logs a peer leaving the ring this node routes by (down, leaving) or coming back. */
export function logView(log: ConsolaInstance, change: ViewChange): void {
  const what = change.out === undefined ? "is back in the ring" : `is out of the ring (${change.out})`;
  const keys = change.out === undefined ? "its keys go back to it" : "its keys go to the next nodes of the ring";
  log.info(`ring: ${change.peer} ${what}; ${keys}; ${change.peers.length} nodes route`, {
    peer: change.peer,
    status: change.out ?? "in",
    nodes: change.peers.length,
  });
}

/** logUp writes the node's start-up line: where it listens, its ring, its groups and what is on. */
export function logUp(
  log: ConsolaInstance,
  config: NodeConfig,
  node: RunningNode,
  own: string[],
  pool: PeerSet,
  sources: Source[],
): void {
  const g = config.groups;
  const budget = g.reduce((n, x) => n + x.cacheBytes, 0);
  const groups =
    g.length === 1
      ? `group ${g[0]!.name}, budget ${formatBytes(budget)}, source ${sources[0]!.describe}`
      : `groups ${g.map((x, i) => `${x.name} (${formatBytes(x.cacheBytes)}, ${sources[i]!.describe})`).join(", ")}`;
  const where = [node.url, ...(node.apiUrl !== node.url ? [`API on ${node.apiUrl}`] : [])];
  where.push(...own);
  const extras = [
    config.ttl ? `ttl ${formatDuration(config.ttl)}` : "",
    config.token ? "peer token on" : "",
    config.tls ? "tls on" : "",
    config.workers > 1 ? `${config.workers} workers (an eighth of the budget for their copies)` : "",
  ].filter(Boolean);
  log.info(
    `listening on ${where.join(", ")}; self ${pool.self}, peers ${pool.peers().join(",")}; ${groups}, hash ${config.hash}${extras.map((e) => `, ${e}`).join("")}`,
  );
}
