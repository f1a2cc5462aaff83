import { parentPort } from "node:worker_threads";
import { bearerMatches } from "../../core/bearer.ts";
import { errorResponse, readBody, text } from "../../core/responses.ts";
import { MAX_REQUEST_BODY } from "../server.ts";
import { Copies, Copy } from "./copies.ts";
import type { Answer, Counts, FromWorker, ToWorker, WorkerInit } from "./messages.ts";

/** REPORT_MS is how often a worker reports its counters to the main thread (only when they moved). */
const REPORT_MS = 250;

/** GC_EVERY_MIN is the least a worker receives between two full collections of its heap (see forward). */
const GC_EVERY_MIN = 4 * 1024 * 1024;

/** FAULT_ENV, for tests only, makes worker 1 crash (an uncaught error) after that many requests. */
export const FAULT_ENV = "GEECACHE_FAULT_WORKER_EXIT";

type Server = { requestIP(req: Request): { address: string } | null };

/**
 * runWorker serves a node's HTTP ports from a worker thread: it answers a GET from its copies of values the node serves
 * from its main cache, and hands every other request to the main thread, which answers it as the node does (routes,
 * tokens, protected mode, the cluster) and may grant a copy of a value it served.
 */
export function runWorker(init: WorkerInit): void {
  const port = parentPort;
  if (!port) throw new Error("runWorker runs in a worker thread");
  const post = (m: FromWorker) => port.postMessage(m);
  const copies = init.copies && init.copyBytes > 0 ? new Copies(init.versions, init.copyBytes) : undefined;
  const token = init.apiReadToken;
  const pending = new Map<number, (a: Answer) => void>();
  let seq = 0;
  const counts: Counts = { t: "counts", requests: 0, copies: 0, forwarded: 0, copyBytes: 0, hits: {} };
  let reported = -1;
  const faultAfter = init.id === 1 ? Number(process.env[FAULT_ENV] ?? 0) : 0;
  // The values a worker receives become garbage once answered or dropped from its copies, in a heap the main
  // thread's collections do not reach: the worker collects its own every copyBytes (at least 4 MiB) it receives.
  const gcEvery = Math.max(GC_EVERY_MIN, init.copyBytes);
  let received = 0;

  const forward = async (req: Request, server: Server, api: boolean): Promise<Response> => {
    counts.forwarded++;
    let body: Uint8Array | null = null;
    if (req.body) {
      try {
        body = await readBody(req, init.maxBodyBytes);
      } catch (err) {
        return errorResponse(err);
      }
    }
    const i = ++seq;
    const answer = await new Promise<Answer>((resolve) => {
      pending.set(i, resolve);
      const headers = [...req.headers] as [string, string][];
      const ip = server.requestIP(req)?.address ?? "";
      post({ t: "req", i, api, method: req.method, url: req.url, headers, body: body && body.slice().buffer, ip });
    });
    const bytes = answer.body === null ? null : new Uint8Array(answer.body);
    if ((received += bytes?.length ?? 0) >= gcEvery) {
      received = 0;
      Bun.gc(true);
    }
    const res = new Response(bytes, { status: answer.status, headers: answer.headers });
    const grant = answer.copy;
    if (grant && copies && bytes) {
      const headers = new Headers(answer.headers);
      headers.set("x-geecache-cache", "hit");
      headers.set("x-geecache-from", "main");
      const { group, slot, version, epoch, expiresAt } = grant;
      copies.keep(req.url, new Copy(bytes, headers, group, slot, version, epoch, expiresAt));
    }
    return res;
  };

  const handler =
    (api: boolean) =>
    (req: Request, server: Server): Response | Promise<Response> => {
      if (++counts.requests === faultAfter)
        setTimeout(() => {
          throw new Error(`${FAULT_ENV}: worker 1 fails on purpose`);
        });
      if (copies && req.method === "GET") {
        const c = copies.get(req.url, Date.now);
        if (c !== undefined && (token === undefined || bearerMatches(req, token))) {
          counts.copies++;
          counts.hits[c.group] = (counts.hits[c.group] ?? 0) + 1;
          return new Response(c.body, { headers: c.headers });
        }
      }
      return forward(req, server, api);
    };

  const serve = (p: number, api: boolean) =>
    Bun.serve({
      hostname: init.host,
      port: p,
      reusePort: true,
      tls: init.tls,
      maxRequestBodySize: MAX_REQUEST_BODY,
      fetch: handler(api),
      error: (err) => text(500, `internal error: ${err.message}`),
    });
  let servers: ReturnType<typeof serve>[];
  try {
    servers = [serve(init.port, false)];
    if (init.apiPort !== undefined) servers.push(serve(init.apiPort, true));
  } catch (err) {
    post({ t: "fail", message: err instanceof Error ? err.message : String(err) });
    return;
  }

  const report = setInterval(() => {
    counts.copyBytes = copies?.bytes ?? 0;
    if (counts.requests === reported) return;
    reported = counts.requests;
    post(counts);
    counts.hits = {};
  }, REPORT_MS);

  port.on("message", (m: ToWorker) => {
    if (m.t === "res") {
      pending.get(m.i)?.(m);
      pending.delete(m.i);
    } else if (m.t === "stop") {
      clearInterval(report);
      void Promise.all(servers.map((s) => s.stop())).then(() => {
        counts.copyBytes = copies?.bytes ?? 0;
        post(counts);
        post({ t: "stopped" });
      });
    }
  });
  post({ t: "up" });
}
