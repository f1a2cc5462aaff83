// The Prometheus text exposition format (version 0.0.4), written by hand: a counter, a histogram
// with pre-resolved label children, and a writer that escapes what the format asks it to.

/** CONTENT_TYPE is what a scrape of the text format is answered with. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** escapeLabelValue escapes a label value for the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)) : value;
}

/** escapeHelp escapes HELP text: backslash and line feed (quotes stay as they are). */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** formatLabels renders names and values as `{a="x",b="y"}`, or "" when there are none. */
export function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? "")}"`).join(",")}}`;
}

/** formatValue writes a sample value: integers plainly, infinities as +Inf and -Inf. */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Exposition collects metric families in order and renders them as one text body. */
export class Exposition {
  readonly #lines: string[] = [];

  /** family starts a family: its HELP and TYPE lines. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** sample adds one line; labels is formatLabels' output (pre-rendered, so hot series can cache it). */
  sample(name: string, labels: string, value: number): this {
    this.#lines.push(`${name}${labels} ${formatValue(value)}`);
    return this;
  }

  /** text is the body of a scrape: every line, each ending in a line feed. */
  text(): string {
    return this.#lines.length ? `${this.#lines.join("\n")}\n` : "";
  }
}

/** Metric holds what every family has: a checked name, help and label names. */
abstract class Metric<Child> {
  readonly #children = new Map<string, { labels: string; child: Child }>(); // by the values joined with \u0000

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    for (const n of [name, ...labelNames])
      if (!NAME.test(n)) throw new TypeError(`metric ${name}: ${JSON.stringify(n)} is not a valid Prometheus name`);
    if (labelNames.includes("le")) throw new TypeError(`metric ${name}: "le" is reserved for histogram buckets`);
  }

  /** child returns the series for label values, made on first use; keep it to skip the lookup on a hot path. */
  child(...values: string[]): Child {
    if (values.length !== this.labelNames.length)
      throw new TypeError(
        `metric ${this.name} takes ${this.labelNames.length} label values (${this.labelNames.join(", ")}), got ${values.length}`,
      );
    const key = values.join("\u0000");
    let entry = this.#children.get(key);
    if (!entry) {
      entry = { labels: formatLabels(this.labelNames, values), child: this.make(values) };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract make(values: string[]): Child;

  protected series(): Iterable<{ labels: string; child: Child }> {
    return this.#children.values();
  }
}

/** CounterChild is one series of a counter. */
export class CounterChild {
  value = 0;
  /** inc adds n (default 1); a counter never goes down. */
  inc(n = 1): void {
    this.value += n;
  }
}

/** Counter is a family of monotonic counts; its name must end in `_total`. */
export class Counter extends Metric<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (!name.endsWith("_total")) throw new TypeError(`counter ${name}: a counter's name ends in _total`);
  }
  protected make(): CounterChild {
    return new CounterChild();
  }
  /** write adds the family to out (nothing when it has no series yet). */
  write(out: Exposition): void {
    const all = [...this.series()];
    if (all.length === 0) return;
    out.family(this.name, "counter", this.help);
    for (const { labels, child } of all) out.sample(this.name, labels, child.value);
  }
}

/** DURATION_BUCKETS (seconds) run from 100 µs (a cache hit) to 10 s (a slow loader). */
export const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** HistogramChild is one series of a histogram: per-bucket counts (not cumulative), their sum and count. */
export class HistogramChild {
  // counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  /** observe records one value (seconds, for the duration histograms). */
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/**
 * Histogram is a family of distributions with fixed upper bounds; it writes cumulative `_bucket` series, `_sum` and
 * `_count`.
 */
export class Histogram extends Metric<HistogramChild> {
  readonly bounds: readonly number[];
  readonly #le: string[]; // the le label value of each bound, then +Inf

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    bounds: readonly number[] = DURATION_BUCKETS,
  ) {
    super(name, help, labelNames);
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new RangeError(`histogram ${name}: bucket bounds must be finite and increasing, got ${bounds.join(", ")}`);
    }
    this.bounds = bounds;
    this.#le = [...bounds.map(formatValue), "+Inf"];
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  /** write adds the family to out (nothing when it has no series yet). */
  write(out: Exposition): void {
    const all = [...this.series()];
    if (all.length === 0) return;
    out.family(this.name, "histogram", this.help);
    for (const { labels, child } of all) {
      const open = labels === "" ? "{" : `${labels.slice(0, -1)},`;
      let cumulative = 0;
      for (let i = 0; i < this.#le.length; i++) {
        cumulative += child.counts[i]!;
        out.sample(`${this.name}_bucket`, `${open}le="${this.#le[i]}"}`, cumulative);
      }
      out.sample(`${this.name}_sum`, labels, child.sum);
      out.sample(`${this.name}_count`, labels, child.count);
    }
  }
}
