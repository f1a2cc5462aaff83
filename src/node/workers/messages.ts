import type { WorkerFigures } from "../../observability/metrics/worker-metrics.ts";

export type { WorkerFigures };

/** WorkerInit is what a worker thread is started with (its workerData): where to listen and how to serve. */
export interface WorkerInit {
  /** geecacheWorker marks the thread as a geecache worker: the CLI's entry serves instead of parsing flags. */
  geecacheWorker: true;
  /** id is the worker's number: 0 is the main thread (the node itself), threads are 1 .. N-1. */
  id: number;
  host: string;
  port: number;
  /** apiPort is the second listener's port (--api), when there is one. */
  apiPort?: number;
  tls?: { cert: string; key: string };
  /** apiReadToken, when set, is checked here before a copy is served. */
  apiReadToken?: string;
  /** copies turns the copies on; off (--access-log), every request is forwarded to the main thread. */
  copies: boolean;
  /** copyBytes bounds the bytes of values this worker keeps copies of. */
  copyBytes: number;
  /** maxBodyBytes bounds a request body forwarded to the main thread (larger: 413 here). */
  maxBodyBytes: number;
  /** versions: [0] the ring's epoch, [1 + slot] the version of every key in a slot (slotOf). */
  versions: SharedArrayBuffer;
}

/** Forwarded is a request a worker hands to the main thread: everything but its copies is answered there. */
export interface Forwarded {
  t: "req";
  i: number;
  /** api: it came to the --api listener (API routes only). */
  api: boolean;
  method: string;
  url: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
  /** ip is the client's address, for protected mode and the access log. */
  ip: string;
}

/** CopyGrant lets a worker keep the answer as a copy while the versions it was read at hold. */
export interface CopyGrant {
  group: string;
  slot: number;
  version: number;
  epoch: number;
  /** expiresAt is the value's expiry (Unix ms; 0 = never): the copy is not served past it. */
  expiresAt: number;
}

/** Answer is the main thread's response to a Forwarded request. */
export interface Answer {
  t: "res";
  i: number;
  status: number;
  headers: [string, string][];
  body: ArrayBuffer | null;
  copy?: CopyGrant;
}

/** Counts is a worker's report: its figures and, by group, the copy hits since its last report. */
export interface Counts {
  t: "counts";
  requests: number;
  copies: number;
  forwarded: number;
  copyBytes: number;
  hits: Record<string, number>;
}

/** FromWorker is every message a worker sends the main thread. */
export type FromWorker = { t: "up" } | { t: "fail"; message: string } | Forwarded | Counts | { t: "stopped" };

/** ToWorker is every message the main thread sends a worker. */
export type ToWorker = Answer | { t: "stop" };
