import { Worker } from "node:worker_threads";
import type { ConsolaInstance } from "consola";
import { errorMessage } from "../../core/errors.ts";
import { pathOf } from "../../core/responses.ts";
import type { Registry } from "../../group/registry.ts";
import { queryParams } from "../query.ts";
import { SLOTS, slotOf } from "./copies.ts";
import type {
  Answer,
  CopyGrant,
  Counts,
  Forwarded,
  FromWorker,
  ToWorker,
  WorkerFigures,
  WorkerInit,
} from "./messages.ts";

/** STOP_MS bounds how long a worker may take to finish its requests when the node stops. */
const STOP_MS = 10_000;
/** RESTART_MS is the first wait before a dead worker starts again; it doubles up to RESTART_MAX_MS. */
const RESTART_MS = 100;
const RESTART_MAX_MS = 5000;

/** WorkerPoolOptions are what a node's workers are started from. */
export interface WorkerPoolOptions {
  /** count is the node's workers, the main thread included: count - 1 threads are started. */
  count: number;
  /** entry is the module a thread runs: one that calls runWorker(workerData) in a worker (the CLI's entry). */
  entry: string | URL;
  init: Omit<WorkerInit, "geecacheWorker" | "id" | "versions">;
  registry: Registry;
  /** owns tells whether this node owns key now: only such values are copied. */
  owns(key: string): boolean;
  /** handle answers a forwarded request as the node's own listener would (api: the --api listener). */
  handle(req: Request, ip: string, api: boolean): Response | Promise<Response>;
  /** mainRequests counts the requests the main thread's own listeners took. */
  mainRequests(): number;
  log: ConsolaInstance;
}

interface Thread {
  id: number;
  worker: Worker;
  counts: Counts;
  restarts: number;
}

/**
 * WorkerPool runs the threads of a node on several workers and answers what they forward. The main thread keeps the
 * node (its caches, ring, peers, loads, snapshots); the version counters it shares with the threads say when their
 * copies are stale: a change of a key's value bumps its slot, a purge or a ring change the epoch.
 */
export class WorkerPool {
  readonly versions = new SharedArrayBuffer((1 + SLOTS) * 4);
  readonly #v = new Int32Array(this.versions);
  readonly #threads = new Map<number, Thread>();
  readonly #o: WorkerPoolOptions;
  #stopping = false;

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
  }

  /** changed makes the copies of key (undefined: of every key) stale in every worker. */
  changed(key: string | undefined): void {
    if (key === undefined) Atomics.add(this.#v, 0, 1);
    else Atomics.add(this.#v, 1 + slotOf(key), 1);
  }

  /** start starts the threads and resolves once each listens; it throws the first one's failure to listen. */
  async start(): Promise<void> {
    const ids = Array.from({ length: this.#o.count - 1 }, (_, i) => i + 1);
    const results = await Promise.allSettled(ids.map((id) => this.#spawn(id, 0)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await this.stop();
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  /** figures are every worker's counters, the main thread's first. */
  figures(): WorkerFigures[] {
    const main = { id: 0, requests: this.#o.mainRequests(), copies: 0, forwarded: 0, copyBytes: 0, restarts: 0 };
    const threads = [...this.#threads.values()].sort((a, b) => a.id - b.id);
    return [main, ...threads.map((t) => ({ id: t.id, ...figuresOf(t.counts), restarts: t.restarts }))];
  }

  /** stop lets every thread finish its requests (bounded), then ends it. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      [...this.#threads.values()].map(async (t) => {
        const stopped = new Promise<void>((resolve) => {
          t.worker.on("message", (m: FromWorker) => m.t === "stopped" && resolve());
          t.worker.once("exit", () => resolve());
        });
        t.worker.postMessage({ t: "stop" } satisfies ToWorker);
        await Promise.race([stopped, Bun.sleep(STOP_MS)]);
        await t.worker.terminate();
      }),
    );
  }

  #spawn(id: number, restarts: number): Promise<void> {
    const init: WorkerInit = { ...this.#o.init, geecacheWorker: true, id, versions: this.versions };
    const entry = this.#o.entry;
    const worker = new Worker(typeof entry === "string" && entry.startsWith("file:") ? new URL(entry) : entry, {
      workerData: init,
    });
    const thread: Thread = { id, worker, restarts, counts: { ...figuresOf(), t: "counts", hits: {} } };
    this.#threads.set(id, thread);
    return new Promise((resolve, reject) => {
      let up = false;
      worker.on("message", (m: FromWorker) => {
        if (m.t === "req") void this.#answer(worker, m);
        else if (m.t === "counts") this.#count(thread, m);
        else if (m.t === "up") (up = true), resolve();
        else if (m.t === "fail") reject(new Error(`worker ${id} cannot listen: ${m.message}`));
      });
      let why = "";
      worker.on("error", (err) => (why = errorMessage(err)));
      worker.on("exit", (code) => {
        if (!up) return reject(new Error(`worker ${id} stopped before it listened${why ? `: ${why}` : ""}`));
        if (this.#stopping || this.#threads.get(id) !== thread) return;
        const wait = Math.min(RESTART_MAX_MS, RESTART_MS * 2 ** Math.min(restarts, 10));
        this.#o.log.warn(`worker ${id} stopped (exit code ${code}${why ? `: ${why}` : ""}); starting it again`, {
          worker: id,
          status: code,
          restarts: restarts + 1,
        });
        setTimeout(() => {
          if (this.#stopping) return;
          this.#spawn(id, restarts + 1).then(
            () => this.#o.log.info(`worker ${id} is serving again`, { worker: id, restarts: restarts + 1 }),
            (err) => this.#o.log.error(`worker ${id} could not start again: ${errorMessage(err)}`, { worker: id }),
          );
        }, wait);
      });
    });
  }

  #count(thread: Thread, m: Counts): void {
    thread.counts = m;
    for (const [name, n] of Object.entries(m.hits)) this.#o.registry.get(name)?.countHits(n);
  }

  /** #answer runs a forwarded request through the node and posts the answer, with a copy grant when one is due. */
  async #answer(worker: Worker, m: Forwarded): Promise<void> {
    let answer: Answer;
    let body: ArrayBuffer | null = null;
    try {
      const req = new Request(m.url, { method: m.method, headers: m.headers, body: m.body });
      const res = await this.#o.handle(req, m.ip, m.api);
      body = res.body === null ? null : await res.arrayBuffer();
      answer = { t: "res", i: m.i, status: res.status, headers: [...res.headers], body };
      if (body && res.status === 200 && m.method === "GET" && pathOf(m.url) === "/api")
        answer.copy = this.#grant(m.url, body);
    } catch (err) {
      // Never leave the worker's client waiting: whatever failed here is the node's 500, in one line.
      body = null;
      const line = new TextEncoder().encode(`internal error: ${errorMessage(err)}\n`).buffer as ArrayBuffer;
      answer = { t: "res", i: m.i, status: 500, headers: [["content-type", "text/plain; charset=utf-8"]], body: line };
    }
    worker.postMessage(answer, body ? [body] : []);
  }

  /**
   * #grant lets the worker copy the answer to a GET /api when it is the value this node holds for the key in its main
   * cache now (never another node's key), at the versions of now: any later change of it bumps them.
   */
  #grant(url: string, body: ArrayBuffer): CopyGrant | undefined {
    const params = queryParams(url);
    const key = params.get("key");
    const group = params.get("group") || this.#o.registry.first()?.name;
    if (!key || !group || !this.#o.owns(key)) return undefined;
    const e = this.#o.registry.get(group)?.peek(key);
    if (e?.from !== "main" || !Buffer.from(body).equals(e.value.view())) return undefined;
    const slot = slotOf(key);
    return {
      group,
      slot,
      version: Atomics.load(this.#v, 1 + slot),
      epoch: Atomics.load(this.#v, 0),
      expiresAt: e.expiresAt,
    };
  }
}

function figuresOf(c?: Counts): Omit<WorkerFigures, "id" | "restarts"> {
  return {
    requests: c?.requests ?? 0,
    copies: c?.copies ?? 0,
    forwarded: c?.forwarded ?? 0,
    copyBytes: c?.copyBytes ?? 0,
  };
}
