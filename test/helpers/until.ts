// The one polling wait of the tests, the benchmarks and the chaos scenarios: for a condition that
// has no event to wait on (another process's /stats, a file another part rereads).

/** UntilOptions bound a wait: timeoutMs (default 5000) and intervalMs, the pause between checks (default 50). */
export interface UntilOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * until calls check every intervalMs until it returns true and resolves with the ms it waited. A
 * check that throws counts as not yet (a server still starting); after timeoutMs it rejects,
 * naming what it waited for, with the last error as the cause.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: UntilOptions = {},
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 50;
  const start = performance.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return performance.now() - start;
    } catch (err) {
      last = err;
    }
    if (performance.now() - start > timeoutMs)
      throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`, last === undefined ? {} : { cause: last });
    await Bun.sleep(intervalMs);
  }
}
