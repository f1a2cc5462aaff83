import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { duration, type Setting, settingError } from "../core/settings.ts";
import { formatBytes, formatDuration, formatElapsed } from "../core/units.ts";
import type { Registry } from "../group/registry.ts";
import { keepOwnedOnly } from "./handover.ts";
import { loadSnapshot, type SnapshotStats, saveSnapshot } from "./snapshot-file.ts";

function snapshotPath(t: string, name: string): string {
  const dir = dirname(t);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw settingError(name, `is in a folder that does not exist (${dir})`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw settingError(name, `is in a folder this user cannot write (${dir})`);
  }
  if (existsSync(t) && statSync(t).isDirectory()) throw settingError(name, "names a folder, not a file");
  return t;
}

/** SNAPSHOT_SETTINGS turn warm restarts on: where the snapshot lives, and how often it is written besides SIGTERM. */
export const SNAPSHOT_SETTINGS: readonly Setting[] = [
  {
    name: "snapshot",
    help:
      "File the node saves its cache to on SIGTERM (after the drain) and loads on start, before /readyz " +
      "answers 200: a restart starts warm. A missing file is a cold start; a damaged one is one warning and" +
      " a cold start",
    fallbackHelp: "off",
    hint: "/var/lib/geecache/snapshot",
    parse: snapshotPath,
  },
  {
    name: "snapshot-interval",
    help:
      "Also save the snapshot this often in the background, so a crash loses at most this much: 1m, 10m; 0 " +
      "= only on SIGTERM",
    fallback: "0",
    parse: duration(),
  },
];

/** SnapshotLog is where Snapshots reports: one line per save and load, a warning when one fails. */
interface SnapshotLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Snapshots runs a node's snapshot file: the load at start, the saves (on SIGTERM and every
 * interval, one at a time), each logged with what it moved and how long it took.
 */
export class Snapshots {
  /** last is what the last save or load did, for /stats and the logs. */
  last: { saved?: SnapshotStats & { at: number }; loaded?: SnapshotStats & { at: number } } = {};
  #saving: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly path: string,
    readonly registry: Registry,
    readonly log: SnapshotLog,
  ) {}

  /** load reads the snapshot into the groups; a missing file is a cold start, a bad one a warning and a cold start. */
  async load(): Promise<void> {
    try {
      const s = await loadSnapshot(this.path, this.registry, (m) => this.log.warn(m));
      if (!s) return this.log.info(`snapshot ${this.path}: none yet, starting cold`, { phase: "snapshot_load" });
      this.last.loaded = { ...s, at: Date.now() };
      this.log.info(
        `snapshot ${this.path}: loaded ${s.entries} entries (${formatBytes(s.bytes)}) of ${s.groups} groups in ${formatElapsed(s.ms)}${s.skipped ? `; skipped ${s.skipped} expired or of unknown groups` : ""}`,
        { phase: "snapshot_load", entries: s.entries, bytes: s.bytes, skipped: s.skipped, duration_ms: s.ms },
      );
    } catch (err) {
      this.log.warn(`snapshot ${this.path}: ${(err as Error).message}; starting cold`, {
        phase: "snapshot_load",
        error: (err as Error).message,
      });
    }
  }

  /** save writes the snapshot now (a save already running is awaited instead); a failure is one warning. */
  save(reason: string): Promise<void> {
    this.#saving ??= saveSnapshot(this.path, this.registry)
      .then((s) => {
        this.last.saved = { ...s, at: Date.now() };
        this.log.info(
          `snapshot ${this.path}: saved ${s.entries} entries (${formatBytes(s.bytes)}) in ${formatElapsed(s.ms)} (${reason})`,
          { phase: "snapshot_save", entries: s.entries, bytes: s.bytes, duration_ms: s.ms },
        );
      })
      .catch((err) =>
        this.log.warn(`snapshot ${this.path}: save failed: ${(err as Error).message}`, {
          phase: "snapshot_save",
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        this.#saving = undefined;
      });
    return this.#saving;
  }

  /**
   * keepOwned moves the loaded entries of keys this node does not own into each group's copies:
   * peeked by a new owner during the handoff, never served by a get here.
   */
  keepOwned(owns: (key: string) => boolean): void {
    const moved = keepOwnedOnly(this.registry, owns).length;
    if (moved > 0)
      this.log.info(`snapshot ${this.path}: ${moved} entries belong to other nodes now; kept for their handoff only`, {
        phase: "snapshot_load",
        moved,
      });
  }

  /** every saves the snapshot in the background every ms (0: never). */
  every(ms: number): void {
    clearInterval(this.#timer);
    if (ms <= 0) return;
    this.#timer = setInterval(() => void this.save("every " + formatDuration(ms)), ms);
    this.#timer.unref();
  }

  /** stop ends the background saves. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
