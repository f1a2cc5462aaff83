import { type Setting, settingError } from "../../core/settings.ts";
import { MAX_WORKERS, usableCores } from "./cores.ts";

/** DEFAULT_WORKERS: one worker, until the figures of scripts/bench/workers.ts say more is safe everywhere. */
export const DEFAULT_WORKERS = 1;

/** workersCount reads --workers: a whole number from 1 to MAX_WORKERS, or auto (the cores this process may use). */
export function workersCount(t: string, name: string, cores: () => number = usableCores): number {
  const s = t.trim().toLowerCase();
  if (s === "auto") return cores();
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw settingError(name, `accepts auto or a whole number from 1 to ${MAX_WORKERS}, got ${JSON.stringify(t)}`);
  return n;
}

/** WORKER_SETTINGS: how many threads serve the node's HTTP ports. */
export const WORKER_SETTINGS: readonly Setting[] = [
  {
    name: "workers",
    help:
      "Threads that serve the node's HTTP ports together (one node on the ring, one cache budget, one load per key); " +
      "auto = the cores this process may use (affinity mask, cgroup CPU limit)",
    fallback: String(DEFAULT_WORKERS),
    hint: "1|auto",
    parse: (t, name) => workersCount(t, name),
  },
];
