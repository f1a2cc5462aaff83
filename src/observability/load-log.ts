import type { ConsolaInstance } from "consola";
import { errorMessage, isNotFound } from "../core/errors.ts";
import { formatElapsed } from "../core/units.ts";
import type { Getter } from "../group/loader.ts";

/** SOURCE_FAILURE_LOG_INTERVAL: a group's source failures are logged at most once per this many ms, with a count. */
export const SOURCE_FAILURE_LOG_INTERVAL = 10_000;

/** LoadLogOptions tune loggedLoads. */
export interface LoadLogOptions {
  /** source names the source in the debug lines (no passwords: Source.describe). */
  source?: string;
  /** failureInterval is the least time (ms) between two source-failure lines of the group. */
  failureInterval?: number;
  now?: () => number;
}

/**
 * loggedLoads wraps a group's loader for the operator: at debug level every load gets a line
 * before (`loading scores/"Jack" from ...`) and one after with its outcome and duration
 * (`load scores/"Jack" ok 3.2ms`, `not_found`, `error: why`); failures of the source are warned
 * at any level, at most once per failureInterval, with how many loads failed since the last line
 * (a pending count is written when the interval ends, by a timer that does not hold the process,
 * or by flush, which the node calls as it exits).
 */
export function loggedLoads(
  log: ConsolaInstance,
  group: string,
  getter: Getter,
  options: LoadLogOptions = {},
): { getter: Getter; flush(): void } {
  const interval = options.failureInterval ?? SOURCE_FAILURE_LOG_INTERVAL;
  const now = options.now ?? Date.now;
  let lastLineAt = -Infinity; // when the last failure line was written
  let pending = 0; // failures since then
  let lastFailure = { key: "", error: "" };
  let timer: ReturnType<typeof setTimeout> | undefined;

  const report = () => {
    timer = undefined;
    if (pending === 0) return;
    const { key, error } = lastFailure;
    const count = pending;
    const since = lastLineAt;
    pending = 0;
    lastLineAt = now();
    const span = since === -Infinity ? "" : ` in ${formatElapsed(lastLineAt - since)}`;
    log.warn(
      `source of group ${group} failed ${count === 1 ? "1 load" : `${count} loads`}${span}; last: key ${JSON.stringify(key)}: ${error}`,
      {
        group,
        key,
        status: "error",
        error,
        failed_keys: count,
      },
    );
  };
  const failed = (key: string, error: string) => {
    pending++;
    lastFailure = { key, error };
    const wait = lastLineAt + interval - now();
    if (wait <= 0) report();
    else if (!timer) {
      timer = setTimeout(report, wait);
      timer.unref?.();
    }
  };

  const logged: Getter = async (key, ctx) => {
    const debug = log.level >= 4;
    const name = `${group}/${JSON.stringify(key)}`;
    if (debug) log.debug(`loading ${name}${options.source ? ` from ${options.source}` : ""}`, { group, key });
    const start = performance.now();
    const ms = () => Math.round((performance.now() - start) * 10) / 10;
    try {
      const v = await getter(key, ctx);
      const status = v === undefined || v === null ? "not_found" : "ok";
      if (debug) log.debug(`load ${name} ${status} ${formatElapsed(ms())}`, { group, key, status, duration_ms: ms() });
      return v;
    } catch (err) {
      if (isNotFound(err)) {
        if (debug)
          log.debug(`load ${name} not_found ${formatElapsed(ms())}`, {
            group,
            key,
            status: "not_found",
            duration_ms: ms(),
          });
      } else {
        const error = errorMessage(err);
        if (debug)
          log.debug(`load ${name} error: ${error} (${formatElapsed(ms())})`, {
            group,
            key,
            status: "error",
            duration_ms: ms(),
            error,
          });
        failed(key, error);
      }
      throw err;
    }
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    report();
  };
  return { getter: logged, flush };
}
