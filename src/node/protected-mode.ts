import type { ConsolaInstance } from "consola";
import type { Handler } from "../cluster/transport.ts";
import { GeeCacheError } from "../core/errors.ts";
import { coded, pathOf } from "../core/responses.ts";

/**
 * DEFAULT_PROTECTED_MODE: as in Redis, a node that listens beyond loopback without tokens refuses
 * writes and peer requests from other hosts until it is given tokens or told --protected-mode=no.
 */
export const DEFAULT_PROTECTED_MODE = true;

/**
 * Protection is what a node in protected mode refuses from other hosts: writes (no --api-token), peers (no --token).
 */
export interface Protection {
  readonly writes: boolean;
  readonly peers: boolean;
}

/** ProtectionSettings are the settings protected mode is decided from. */
export interface ProtectionSettings {
  protectedMode: boolean;
  host: string;
  apiToken: string | undefined;
  token: string | undefined;
}

/**
 * protection is what a node refuses from other hosts, or undefined when it refuses nothing: the
 * mode is off, the node listens on loopback only, or both tokens are set.
 */
export function protection(s: ProtectionSettings): Protection | undefined {
  if (!s.protectedMode || isLoopbackHost(s.host)) return undefined;
  const p = { writes: s.apiToken === undefined, peers: s.token === undefined };
  return p.writes || p.peers ? p : undefined;
}

/** isLoopback tells whether a client address is this host's own: 127.0.0.0/8, ::1 or ::ffff:127.x. */
export function isLoopback(address: string | undefined | null): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (a === "::1" || a === "0:0:0:0:0:0:0:1") return true;
  const v4 = a.startsWith("::ffff:") ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** isLoopbackHost tells whether a listen address is reached from this host alone. */
export function isLoopbackHost(host: string): boolean {
  return host.toLowerCase() === "localhost" || isLoopback(host.replace(/^\[(.*)\]$/, "$1"));
}

/** refusal is the FORBIDDEN error a caller from address gets for a write or a peer request. */
export function refusal(what: "writes" | "peers", address: string | undefined | null): GeeCacheError {
  const from = address || "another host";
  return new GeeCacheError(
    "FORBIDDEN",
    what === "writes"
      ? `protected mode: writes from ${from} are refused because no --api-token is set; set --api-token (writers send Authorization: Bearer <token>) or start with --protected-mode=no`
      : `protected mode: peer requests from ${from} are refused because no --token is set; set the same --token on every node or start with --protected-mode=no`,
  );
}

/** protectionLine is the start-up log line of a node in protected mode. */
export function protectionLine(p: Protection, host: string): string {
  const refused = [p.writes ? "writes (no --api-token)" : "", p.peers ? "peer requests (no --token)" : ""]
    .filter(Boolean)
    .join(" and ");
  const set = [p.writes ? "--api-token" : "", p.peers ? "--token" : ""].filter(Boolean).join(" and ");
  return `protected mode: listening on ${host}, ${refused} from other hosts are refused with 403; reads stay open. Set ${set}, or --protected-mode=no`;
}

/** ProtectedMode is what a node refuses: protection for its HTTP listeners, refuse for peer listeners of their own. */
export interface ProtectedMode {
  protection?: Protection;
  /** refuse checks a caller's address on a peer listener of its own (gRPC). */
  refuse?: (address: string | undefined) => GeeCacheError | undefined;
}

/** protectedMode decides what the node of settings s refuses from other hosts and, if anything, logs it in one line. */
export function protectedMode(s: ProtectionSettings, log: Pick<ConsolaInstance, "warn">): ProtectedMode {
  const p = protection(s);
  if (!p) return {};
  log.warn(protectionLine(p, s.host), { protected_mode: p });
  const refuse = (address: string | undefined) => (isLoopback(address) ? undefined : refusal("peers", address));
  return { protection: p, refuse: p.peers ? refuse : undefined };
}

/** RequestIP is what a guard asks of Bun's server: the address a request came from. */
export interface RequestIP {
  requestIP(req: Request): { address: string } | null;
}

/**
 * guarded wraps a listener's handler so that, in protected mode, a write to /api or a request on a
 * peer route (a path under one of peerPrefixes) from another host gets a one-line 403; everything
 * else, and all of it from loopback, goes to handler. The address is only asked for on those routes.
 */
export function guarded(
  p: Protection,
  peerPrefixes: readonly string[],
  handler: Handler,
): (req: Request, server: RequestIP) => Response | Promise<Response> {
  return (req, server) => {
    const path = pathOf(req.url);
    const what =
      p.peers && peerPrefixes.some((prefix) => path.startsWith(prefix))
        ? "peers"
        : p.writes && path === "/api" && (req.method === "PUT" || req.method === "DELETE")
          ? "writes"
          : undefined;
    if (what === undefined) return handler(req);
    const address = server.requestIP(req)?.address;
    return isLoopback(address) ? handler(req) : coded(refusal(what, address));
  };
}
