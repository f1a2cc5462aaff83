/** REFUSAL_LOG_INTERVAL is how often, at most, refused peer requests are logged: the first at once, then a count. */
export const REFUSAL_LOG_INTERVAL = 10_000;

/**
 * refusalLog makes a reporter of refused peer requests (a wrong or missing token): the first is
 * told to warn at once, later ones are counted and told at most once per interval, so a
 * misconfigured peer cannot flood the log.
 */
export function refusalLog(
  warn: (message: string) => void,
  interval = REFUSAL_LOG_INTERVAL,
  now: () => number = Date.now,
): (what: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  let pending = 0;
  return (what) => {
    pending++;
    if (now() - last < interval) return;
    warn(pending === 1 ? what : `${what} (and ${pending - 1} more refused since the last line)`);
    last = now();
    pending = 0;
  };
}
