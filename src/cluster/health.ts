import { GeeCacheError } from "../core/errors.ts";
import { plainError } from "../core/plain-error.ts";
import type { PeerResponse } from "../core/protocol.ts";
import type { TransportClient } from "./transport.ts";

/** DEFAULT_FAILURE_THRESHOLD: this many failures in a row mark a peer down. */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** DEFAULT_PROBE_MIN and DEFAULT_PROBE_MAX bound the backoff between probes of a down peer: 1 s doubling up to 30 s. */
export const DEFAULT_PROBE_MIN = 1000;
export const DEFAULT_PROBE_MAX = 30_000;
/**
 * NODE_PROBE_INTERVAL is how often a node probes each peer that is up, so a peer that stops
 * answering is seen down within 2 s with no traffic going its way: three probes 400 ms apart, each
 * bounded by NODE_PROBE_TIMEOUT, fail by 1.6 s even for a frozen peer.
 */
export const NODE_PROBE_INTERVAL = 400;
/** NODE_PROBE_TIMEOUT bounds one background probe. */
export const NODE_PROBE_TIMEOUT = 800;

/** PeerHealthState is what the node knows of one peer's health. */
export interface PeerHealthState {
  down: boolean;
  /** since is when the peer went down (Unix ms), or null while it is up. */
  since: number | null;
  /** failures counts failed requests in a row (while up) or since it went down. */
  failures: number;
  lastError: string | null;
}

/** HealthOptions tune when a peer is marked down and how it is probed. */
export interface HealthOptions {
  threshold?: number;
  probeMin?: number;
  probeMax?: number;
  /** onDown and onUp are told once per transition (logs, metrics). */
  onDown?: (peer: string, state: PeerHealthState) => void;
  onUp?: (peer: string, downForMs: number, failures: number) => void;
  /**
   * onRestart is told when a peer answers with another boot id than before: it restarted and its hot copies elsewhere
   * are stale.
   */
  onRestart?: (peer: string) => void;
  /** onBoot is told each time the peer's boot id differs from the last one seen (the first one too). */
  onBoot?: (peer: string, boot: string) => void;
  /**
   * probeInterval (ms) probes the peer in the background while it is up, so it is seen down without
   * traffic (default 0: off; a node uses NODE_PROBE_INTERVAL). probeTimeout bounds each such probe.
   */
  probeInterval?: number;
  probeTimeout?: number;
  now?: () => number;
}

/**
 * withHealth wraps client so that failures are counted: after `threshold` failures in a row
 * (errors and timeouts; a missing key or the caller's abort are answers, not failures) the peer is
 * down, and every request to it fails at once with PEER_FAILED instead of waiting for its timeout.
 * One probe at a time (the client's `probe`, or a peek) then retries it with a backoff from
 * probeMin doubling to probeMax, and the first answer brings it back up.
 */
export function withHealth(
  client: TransportClient,
  options: HealthOptions = {},
): TransportClient & { health(): PeerHealthState; revive(): void; stop(): void } {
  const threshold = options.threshold ?? DEFAULT_FAILURE_THRESHOLD;
  const probeMin = options.probeMin ?? DEFAULT_PROBE_MIN;
  const probeMax = options.probeMax ?? DEFAULT_PROBE_MAX;
  const now = options.now ?? Date.now;
  const url = client.url;
  const state: PeerHealthState = { down: false, since: null, failures: 0, lastError: null };
  let boot: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let inFlight = 0; // background probes not yet answered

  const up = () => {
    if (!state.down) {
      state.failures = 0;
      return;
    }
    const downFor = now() - (state.since ?? now());
    const failures = state.failures;
    Object.assign(state, { down: false, since: null, failures: 0 });
    clearTimeout(timer);
    options.onUp?.(url, downFor, failures);
  };
  const failed = (err: unknown) => {
    state.failures++;
    state.lastError = plainError(err, { peer: url });
    if (!state.down && state.failures >= threshold) {
      Object.assign(state, { down: true, since: now() });
      options.onDown?.(url, { ...state });
      schedule(probeMin);
    }
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => void probe(delay), delay);
    timer.unref?.();
  };
  const probe = async (delay: number) => {
    try {
      if (client.probe) sawBoot(await client.probe());
      else await client.get("", "");
      up();
    } catch (err) {
      if (answered(err)) return up();
      state.lastError = plainError(err, { peer: url });
      schedule(Math.min(delay * 2, probeMax));
    }
  };
  const sawBoot = (b: string | undefined) => {
    if (b === undefined || b === boot) return;
    const restarted = boot !== undefined;
    boot = b;
    options.onBoot?.(url, b);
    if (restarted) options.onRestart?.(url);
  };
  const seen = (res: PeerResponse) => {
    sawBoot(res.boot);
    return res;
  };
  // Background probes: while up, a probe every probeInterval (a few may be in flight for a frozen
  // peer, each bounded by probeTimeout); their failures count like those of requests.
  const background =
    options.probeInterval && client.probe
      ? setInterval(() => {
          if (state.down || stopped || inFlight >= threshold) return;
          inFlight++;
          client.probe!(AbortSignal.timeout(options.probeTimeout ?? NODE_PROBE_TIMEOUT))
            .then((b) => {
              sawBoot(b);
              if (!state.down) up();
            })
            .catch((err) => {
              if (answered(err)) up();
              else if (!state.down) failed(err);
            })
            .finally(() => inFlight--);
        }, options.probeInterval)
      : undefined;
  background?.unref?.();
  const fastFail = () =>
    Promise.reject(
      new GeeCacheError(
        "PEER_FAILED",
        `peer ${url} is down since ${new Date(state.since!).toISOString()} (${state.lastError}); probing it`,
      ),
    );
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (state.down) return fastFail();
      try {
        const result = await call.apply(client, args);
        up();
        return result;
      } catch (err) {
        if (answered(err)) up();
        else if (!isAbort(err)) failed(err);
        throw err;
      }
    };
  const get = guard(client.get);
  return {
    url,
    get: (group, key, signal) => get(group, key, signal).then(seen),
    ...(client.set ? { set: guard(client.set) } : {}),
    ...(client.remove ? { remove: guard(client.remove) } : {}),
    ...(client.purge ? { purge: guard(client.purge) } : {}),
    ...(client.getMany ? { getMany: guard(client.getMany) } : {}), // many keys in one request (batch reads)
    ...(client.peek ? { peek: guard(client.peek) } : {}),
    ...(client.unroutable ? { unroutable: (key: string) => client.unroutable!(key) } : {}),
    ...(client.probe ? { probe: () => client.probe!() } : {}),
    // The status page asks a down peer too (and shows why it fails); its questions count for nothing here.
    ...(client.status ? { status: client.status.bind(client) } : {}),
    ...(client.lookup ? { lookup: client.lookup.bind(client) } : {}),
    ...(client.announce ? { announce: client.announce.bind(client) } : {}),
    get extended() {
      return client.extended;
    },
    health: () => ({ ...state }),
    /** revive marks the peer up at once (it announced it is back), as its first answer would. */
    revive: () => up(),
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(background);
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(background);
      return client.close?.();
    },
  };
}

/**
 * answered tells whether err is the peer's answer about the key (it is alive; LOAD_FAILED: its source failed), not a
 * failure to reach it.
 */
function answered(err: unknown): boolean {
  return (
    err instanceof GeeCacheError &&
    (err.code === "NOT_FOUND" ||
      err.code === "INVALID_ARGUMENT" ||
      err.code === "KEY_TOO_LONG" ||
      err.code === "LOAD_FAILED")
  );
}

function isAbort(err: unknown): boolean {
  return err instanceof GeeCacheError && err.code === "ABORTED";
}
