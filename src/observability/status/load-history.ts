/** LoadSample is one point of the history: when, and the gets and loads per second since the point before. */
export interface LoadSample {
  /** t is the Unix ms of the sample. */
  t: number;
  getsPerSecond: number;
  loadsPerSecond: number;
}

/** DEFAULT_HISTORY_LENGTH keeps five minutes of samples taken every two seconds. */
export const DEFAULT_HISTORY_LENGTH = 150;

/**
 * LoadHistory is a fixed ring of rates made from running totals: `record(t, gets, loads)` is
 * called on a timer with the sums of the groups' counters, and keeps the rate since the last
 * call. It never grows past its length.
 */
export class LoadHistory {
  readonly #t: Float64Array;
  readonly #gets: Float64Array;
  readonly #loads: Float64Array;
  #next = 0; // slot of the next sample
  #size = 0; // samples held, up to the length
  #last: { t: number; gets: number; loads: number } | undefined; // totals of the previous record

  constructor(readonly length = DEFAULT_HISTORY_LENGTH) {
    if (!Number.isInteger(length) || length < 1)
      throw new RangeError(`LoadHistory length must be a whole number >= 1, got ${length}`);
    this.#t = new Float64Array(length);
    this.#gets = new Float64Array(length);
    this.#loads = new Float64Array(length);
  }

  /** record takes the running totals at time t (Unix ms); the first call only sets the baseline. */
  record(t: number, gets: number, loads: number): void {
    const last = this.#last;
    this.#last = { t, gets, loads };
    if (!last || t <= last.t) return;
    const seconds = (t - last.t) / 1000;
    const i = this.#next;
    this.#t[i] = t;
    // A counter that went down (a group replaced) restarts from zero rather than going negative.
    this.#gets[i] = Math.max(0, gets - last.gets) / seconds;
    this.#loads[i] = Math.max(0, loads - last.loads) / seconds;
    this.#next = (i + 1) % this.length;
    this.#size = Math.min(this.#size + 1, this.length);
  }

  /** samples returns the held samples, oldest first. */
  samples(): LoadSample[] {
    const out: LoadSample[] = [];
    const start = (this.#next - this.#size + this.length) % this.length;
    for (let k = 0; k < this.#size; k++) {
      const i = (start + k) % this.length;
      out.push({ t: this.#t[i]!, getsPerSecond: round(this.#gets[i]!), loadsPerSecond: round(this.#loads[i]!) });
    }
    return out;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
