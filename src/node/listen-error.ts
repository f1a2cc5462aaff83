import { errorMessage, GeeCacheError } from "../core/errors.ts";
import type { NodeConfig } from "./config.ts";

/** HOLDER_PROBE_TIMEOUT bounds the one question asked of whatever holds a port we could not take. */
export const HOLDER_PROBE_TIMEOUT = 500;

/** ListenTarget is where a node tried to listen: its host, its port (and --api-port with --api), and its TLS. */
export type ListenTarget = Pick<NodeConfig, "host" | "port" | "api" | "apiPort" | "tls">;

/**
 * listenError is the one line for a node that could not listen: when a port is in use and its
 * holder answers /readyz 503 "draining", that it is a geecache node on its way out (the usual
 * case when a node is restarted at once); otherwise `cannot listen on HOST:PORTS: why`.
 */
export async function listenError(err: unknown, target: ListenTarget): Promise<GeeCacheError> {
  const ports = target.api ? [target.port, target.apiPort] : [target.port];
  if ((err as { code?: unknown } | null)?.code === "EADDRINUSE") {
    for (const port of ports) {
      if (await drainingAt(target, port))
        return new GeeCacheError(
          "INVALID_ARGUMENT",
          `port ${port} is held by a geecache node that is draining (it stops within --drain)`,
          { cause: err },
        );
    }
  }
  return new GeeCacheError(
    "INVALID_ARGUMENT",
    `cannot listen on ${target.host}:${ports.join(" and ")}: ${errorMessage(err)}`,
    { cause: err },
  );
}

/** drainingAt asks port's /readyz once whether a geecache node there is draining; any failure is "no". */
async function drainingAt(target: ListenTarget, port: number): Promise<boolean> {
  const host = reachable(target.host);
  try {
    const res = await fetch(`${target.tls ? "https" : "http"}://${host}:${port}/readyz`, {
      signal: AbortSignal.timeout(HOLDER_PROBE_TIMEOUT),
      redirect: "error",
      ...(target.tls ? { tls: { rejectUnauthorized: false } } : {}),
    } as RequestInit);
    if (res.status !== 503) {
      await res.body?.cancel();
      return false;
    }
    const body = (await res.json()) as { status?: unknown; draining?: unknown };
    return body.draining === true || body.status === "draining";
  } catch {
    return false;
  }
}

/** reachable is the address a client dials for a listener on host: a wildcard is reached on loopback. */
function reachable(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
