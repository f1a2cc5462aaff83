import type { Exposition } from "./prometheus.ts";

/** SnapshotRun is what one snapshot save or load did: entries and bytes moved, how long it took, and when. */
export interface SnapshotRun {
  entries: number;
  bytes: number;
  ms: number;
  /** at is when it ended (Unix ms). */
  at: number;
}

/** SnapshotFigures are a node's last snapshot save and load (--snapshot), either absent until it happens. */
export interface SnapshotFigures {
  saved?: SnapshotRun;
  loaded?: SnapshotRun;
}

/** writeSnapshotMetrics writes the last save's and load's figures, labelled op="save" or op="load". */
export function writeSnapshotMetrics(out: Exposition, figures: SnapshotFigures): void {
  const runs = [
    ["save", figures.saved],
    ["load", figures.loaded],
  ] as const;
  const series = [
    ["geecache_snapshot_entries", "Entries the last snapshot save or load moved.", (r: SnapshotRun) => r.entries],
    ["geecache_snapshot_bytes", "Value bytes the last snapshot save or load moved.", (r: SnapshotRun) => r.bytes],
    [
      "geecache_snapshot_duration_seconds",
      "How long the last snapshot save or load took.",
      (r: SnapshotRun) => r.ms / 1000,
    ],
    [
      "geecache_snapshot_timestamp_seconds",
      "When the last snapshot save or load ended (Unix seconds).",
      (r: SnapshotRun) => r.at / 1000,
    ],
  ] as const;
  for (const [name, help, value] of series) {
    out.family(name, "gauge", help);
    for (const [op, run] of runs) if (run) out.sample(name, `{op="${op}"}`, value(run));
  }
}
