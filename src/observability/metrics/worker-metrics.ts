import { type Exposition, formatLabels } from "./prometheus.ts";

/** WorkerFigures are one worker's counters since it started (id 0: the main thread, which is the node). */
export interface WorkerFigures {
  id: number;
  /** requests it accepted, copies counts those it answered from its copies, forwarded those it handed on. */
  requests: number;
  copies: number;
  forwarded: number;
  /** copyBytes is what its copies hold now; restarts how many times it was started again after dying. */
  copyBytes: number;
  restarts: number;
}

/** writeWorkerMetrics writes each worker's counters, labelled worker="ID" (--workers above 1). */
export function writeWorkerMetrics(out: Exposition, workers: readonly WorkerFigures[]): void {
  const series = [
    ["geecache_worker_requests_total", "counter", "Requests a worker accepted on the node's ports.", "requests"],
    ["geecache_worker_copy_hits_total", "counter", "Requests a worker answered from its copies.", "copies"],
    ["geecache_worker_forwarded_total", "counter", "Requests a worker handed to the main thread.", "forwarded"],
    ["geecache_worker_copy_bytes", "gauge", "Bytes of the values a worker keeps copies of.", "copyBytes"],
    ["geecache_worker_restarts_total", "counter", "Times a worker was started again after it died.", "restarts"],
  ] as const;
  for (const [name, type, help, field] of series) {
    out.family(name, type, help);
    for (const w of workers) out.sample(name, formatLabels(["worker"], [String(w.id)]), w[field]);
  }
}
