import type { ConsolaInstance } from "consola";
import { errorMessage } from "../core/errors.ts";
import { formatDuration, formatElapsed } from "../core/units.ts";

/** DEFAULT_DRAIN is how long a node SIGTERMed with peers keeps serving while /readyz says 503. */
export const DEFAULT_DRAIN = 5000;

/** DEFAULT_HANDOVER_BYTES bounds what a leaving node sends to the new owners of its keys: 256 MiB. */
export const DEFAULT_HANDOVER_BYTES = 256 * 1024 * 1024;

/** SHUTDOWN_GRACE_MS is how long in-flight requests may take to finish after the drain. */
export const SHUTDOWN_GRACE_MS = 5000;

/** ShutdownSteps are what a node does to stop, in order. */
export interface ShutdownSteps {
  /** drain is how long to keep serving with /readyz 503 before stopping (0: none). */
  drain: number;
  /** startDrain makes /readyz answer 503. */
  startDrain(): void;
  /**
   * leave, when the node drains, takes it out of the ring, tells its peers and hands its entries
   * over to their new owners, stopping by until (performance.now() ms).
   */
  leave?(until: number): Promise<void>;
  /** stopDiscovery stops following membership. */
  stopDiscovery(): void;
  /** stopListening stops accepting and resolves once in-flight requests are answered. */
  stopListening(): Promise<unknown>;
  /** save writes what the node would want back after a restart (its snapshot), once requests are done. */
  save?(): Promise<unknown>;
  /** close frees what the node holds after that (sources, peer connections). */
  close(): Promise<unknown>;
  /** flush writes what the node has not yet reported (source failures). */
  flush(): void;
}

/**
 * shutdown stops a node on a signal: on SIGTERM it drains first (peers and load balancers see
 * /readyz 503 while it still serves), then stops listening, waits at most SHUTDOWN_GRACE_MS for
 * in-flight requests, closes and flushes. It returns `stop(signal)`; a second call cuts the drain
 * short. The promise resolves when the node may exit.
 */
export function shutdown(steps: ShutdownSteps, log: ConsolaInstance): (signal: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  let endDrain: (() => void) | undefined;
  const run = async (signal: string) => {
    if (signal === "SIGTERM" && steps.drain > 0) {
      steps.startDrain();
      log.info(
        `${signal}: draining for ${formatDuration(steps.drain)} (/readyz answers 503; requests are still served)`,
        {
          signal,
          phase: "drain_start",
          duration_ms: steps.drain,
        },
      );
      const drainStart = performance.now();
      const { promise, resolve } = Promise.withResolvers<void>();
      const cut = Promise.withResolvers<void>();
      endDrain = () => {
        resolve();
        cut.resolve();
      };
      const timer = setTimeout(resolve, steps.drain);
      // The handover runs within the drain, which ends when both are done (a second signal cuts both short).
      const leaving = steps
        .leave?.(drainStart + steps.drain)
        .catch((err) =>
          log.warn(`leaving: ${errorMessage(err)}`, { signal, phase: "handover", error: errorMessage(err) }),
        );
      await Promise.race([Promise.all([promise, leaving]), cut.promise]);
      clearTimeout(timer);
      const drained = Math.round(performance.now() - drainStart);
      const short = drained < steps.drain - 1 ? " (cut short by a second signal)" : "";
      log.info(`${signal}: drain ended after ${formatElapsed(drained)}${short}`, {
        signal,
        phase: "drain_end",
        duration_ms: drained,
      });
    }
    steps.stopDiscovery();
    log.info(`${signal}: finishing in-flight requests (at most ${formatDuration(SHUTDOWN_GRACE_MS)})`, {
      signal,
      phase: "in_flight",
    });
    const stopStart = performance.now();
    // The source (a PostgreSQL pool) closes after the in-flight requests that may still be loading.
    const stopped = steps
      .stopListening()
      .then(() => steps.close())
      .then(() => true)
      .catch(
        (err) =>
          void log.warn(`shutdown: ${errorMessage(err)}`, { signal, phase: "in_flight", error: errorMessage(err) }),
      );
    const done = await Promise.race([stopped, Bun.sleep(SHUTDOWN_GRACE_MS).then(() => false as const)]);
    const took = Math.round(performance.now() - stopStart);
    if (done === false)
      log.warn(`${signal}: requests still in flight after ${formatElapsed(took)}; exiting anyway`, {
        signal,
        phase: "in_flight_timeout",
        duration_ms: took,
      });
    else
      log.info(`${signal}: in-flight requests finished in ${formatElapsed(took)}`, {
        signal,
        phase: "in_flight_done",
        duration_ms: took,
      });
    // The snapshot is written once no request can change the caches any more (or the grace is over).
    await steps.save?.();
    steps.flush();
  };
  return (signal) => {
    if (stopping) {
      endDrain?.(); // a second signal cuts the drain short
      return stopping;
    }
    stopping = run(signal);
    return stopping;
  };
}
