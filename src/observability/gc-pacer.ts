/** DEFAULT_GC_CHECK_INTERVAL is how often (ms) a started GcPacer looks at the process's memory. */
export const DEFAULT_GC_CHECK_INTERVAL = 100;
/** GC_SLACK_BYTES is what a GcPacer allows above 1.25x the budget before it collects: the runtime's own share. */
export const GC_SLACK_BYTES = 48 * 1024 * 1024;

/** GcPacerOptions say what the caches may hold and how to watch them; rss and collect are seams for tests. */
export interface GcPacerOptions {
  /** budget is the bytes all caches may hold together (the groups' cacheBytes summed). */
  budget: number;
  /** evictions returns a count that grows whenever a cache drops a value to stay in its budget. */
  evictions: () => number;
  rss?: () => number;
  collect?: () => void;
}

/**
 * GcPacer runs a full collection when the caches have evicted since its last look and the process
 * holds more than 1.25x budget + GC_SLACK_BYTES. Evicted values are old-generation garbage that
 * only a full collection frees, and JSC lets it grow to several times the budget under churn
 * (scripts/bench/memory.ts: ~440 MiB for a 64 MiB budget, ~220 MiB paced). A full collection
 * of a cache's heap takes a few ms; a started pacer looks at most once an interval.
 */
export class GcPacer {
  readonly limit: number; // RSS in bytes above which a look with new evictions collects
  readonly #evictions: () => number;
  readonly #rss: () => number;
  readonly #collect: () => void;
  #seen: number; // evictions at the last look

  constructor(options: GcPacerOptions) {
    const { budget } = options;
    if (typeof budget !== "number" || !Number.isFinite(budget) || budget < 0)
      throw new RangeError(`GcPacer: budget must be a number of bytes >= 0, got ${budget}`);
    if (typeof options.evictions !== "function")
      throw new TypeError("GcPacer: evictions must be a function returning the caches' eviction count");
    this.limit = 1.25 * budget + GC_SLACK_BYTES;
    this.#evictions = options.evictions;
    this.#rss = options.rss ?? (() => process.memoryUsage.rss());
    this.#collect = options.collect ?? (() => Bun.gc(true));
    this.#seen = this.#evictions();
  }

  /**
   * check looks once: it collects (and returns true) when there were evictions since the last look and the RSS is over
   * the limit.
   */
  check(): boolean {
    const now = this.#evictions();
    if (now === this.#seen) return false;
    this.#seen = now;
    if (this.#rss() <= this.limit) return false;
    this.#collect();
    return true;
  }

  /** start checks every interval ms (the timer does not keep the process alive); it returns a stop function. */
  start(interval = DEFAULT_GC_CHECK_INTERVAL): () => void {
    if (!(interval > 0)) throw new RangeError(`GcPacer.start: interval must be > 0 ms, got ${interval}`);
    const timer = setInterval(() => this.check(), interval);
    timer.unref();
    return () => clearInterval(timer);
  }
}
