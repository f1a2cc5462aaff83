// Prototypes of three designs for one node on N workers (issue: --workers), small enough to measure side by side
// before one is built into the node. Each answers GET /api?key=K from a cache of --keys keys ("k0".."k9999" ->
// "v" + i, each filled on its first miss from a Map standing in for the source) with the same two headers.
// Usage: bun scripts/bench/_workers-proto.ts --port=P --design=owner|copies|shared --workers=N
//   owner:  each worker owns the keys whose hash % N is its id; a request that lands on another worker is
//           forwarded over a MessagePort and answered by the owner (no copies): one cache, no duplicates.
//   copies: worker 0 holds the cache; the others keep copies of what it answered, each checked against a version
//           counter in a SharedArrayBuffer that worker 0 bumps on every change of the key's slot; a miss asks
//           worker 0 over a MessagePort (one load per key, the budget duplicated by the copies).
//   shared: the cache is an open-addressing table and a byte arena in SharedArrayBuffers, written by worker 0 under
//           a seqlock and read by every worker without locks (keys compared as bytes, values copied out).
// Every worker listens on the same port (reusePort). GET /count answers the worker's id and its request counts.
import { isMainThread, MessageChannel, type MessagePort, Worker, workerData } from "node:worker_threads";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
type Init = { id: number; n: number; design: string; port: number; ports: MessagePort[]; sabs: SharedArrayBuffer[] };

const SLOTS = 1 << 15; // shared table slots (power of two, > 2x the keys)
const ARENA = 4 << 20;
const VERSIONS = 4096;

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const source = (key: string): string | undefined => (/^k\d+$/.test(key) ? `v${key.slice(1)}` : undefined);
const HEADERS = { "content-type": "application/octet-stream", "x-geecache-cache": "hit" };
const keyOf = (url: string): string => {
  const at = url.indexOf("key=");
  return at < 0 ? "" : decodeURIComponent(url.slice(at + 4));
};

function serve(init: Init): void {
  const { id, n, design } = init;
  const counts = { requests: 0, local: 0, forwarded: 0 };
  const cache = new Map<string, string>();
  const pending = new Map<number, (v: string | undefined) => void>();
  let seq = 0;
  const enc = new TextEncoder();
  // MessagePorts: ports[j] talks to worker j (owner: every pair; copies/shared: worker 0 and each other).
  const ask = (to: number, key: string): Promise<string | undefined> =>
    new Promise((resolve) => {
      const i = ++seq;
      pending.set(i, resolve);
      init.ports[to]!.postMessage({ i, key });
    });
  const versions = init.sabs[0] ? new Int32Array(init.sabs[0]) : new Int32Array(0);
  const copyVersion = new Map<string, number>();
  // shared: slots of 4 Int32 (hash, off, klen, vlen) + one seqlock word per table; arena bytes.
  const table = init.sabs[1] ? new Int32Array(init.sabs[1]) : new Int32Array(0);
  const arena = init.sabs[2] ? new Uint8Array(init.sabs[2]) : new Uint8Array(0);
  const lock = init.sabs[3] ? new Int32Array(init.sabs[3]) : new Int32Array(0); // [seq, arena top]
  const scratch = new Uint8Array(1024);
  const sharedGet = (key: string): Uint8Array | undefined => {
    const { written: klen } = enc.encodeInto(key, scratch);
    const h = hash(key) | 1;
    for (;;) {
      const s0 = Atomics.load(lock, 0);
      if (s0 & 1) continue; // a write in progress
      let out: Uint8Array | undefined;
      for (let slot = h & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
        const b = slot * 4;
        const sh = table[b]!;
        if (sh === 0) break;
        if (sh !== h || table[b + 2] !== klen) continue;
        const off = table[b + 1]!;
        let same = true;
        for (let j = 0; j < klen; j++)
          if (arena[off + j] !== scratch[j]) {
            same = false;
            break;
          }
        if (same) {
          out = arena.slice(off + klen, off + klen + table[b + 3]!);
          break;
        }
      }
      if (Atomics.load(lock, 0) === s0) return out;
    }
  };
  const sharedPut = (key: string, value: string): void => {
    const k = enc.encode(key);
    const v = enc.encode(value);
    const h = hash(key) | 1;
    Atomics.add(lock, 0, 1);
    const off = lock[1]!;
    arena.set(k, off);
    arena.set(v, off + k.length);
    lock[1] = off + k.length + v.length;
    let slot = h & (SLOTS - 1);
    while (table[slot * 4] !== 0) slot = (slot + 1) & (SLOTS - 1);
    table.set([h, off, k.length, v.length], slot * 4);
    Atomics.add(lock, 0, 1);
  };
  const loadHere = (key: string): string | undefined => {
    let v = cache.get(key);
    if (v === undefined && (v = source(key)) !== undefined) {
      cache.set(key, v);
      // (a write or a delete would bump the key's version slot here: Atomics.add(versions, slot, 1))
      if (design === "shared") sharedPut(key, v);
    }
    return v;
  };
  init.ports.forEach((p, j) => {
    if (!p) return;
    p.on("message", (m: { i: number; key?: string; v?: string }) => {
      if (m.key !== undefined)
        p.postMessage({ i: m.i, v: loadHere(m.key) }); // a request from worker j
      else {
        pending.get(m.i)?.(m.v);
        pending.delete(m.i);
      }
    });
    void j;
  });
  const answer = (v: string | Uint8Array | undefined): Response =>
    v === undefined ? new Response("not found\n", { status: 404 }) : new Response(v, { headers: HEADERS });
  Bun.serve({
    port: init.port,
    reusePort: true,
    fetch(req) {
      const url = req.url;
      if (url.endsWith("/count")) return Response.json({ id, ...counts });
      counts.requests++;
      const key = keyOf(url);
      if (design === "owner") {
        const owner = n === 1 ? 0 : hash(key) % n;
        if (owner === id) {
          counts.local++;
          return answer(loadHere(key));
        }
        counts.forwarded++;
        return ask(owner, key).then(answer);
      }
      if (design === "copies") {
        if (id === 0) {
          counts.local++;
          return answer(loadHere(key));
        }
        const v = cache.get(key);
        if (v !== undefined && copyVersion.get(key) === Atomics.load(versions, hash(key) & (VERSIONS - 1))) {
          counts.local++;
          return answer(v);
        }
        counts.forwarded++;
        const ver = Atomics.load(versions, hash(key) & (VERSIONS - 1));
        return ask(0, key).then((got) => {
          if (got !== undefined) {
            cache.set(key, got);
            copyVersion.set(key, ver);
          }
          return answer(got);
        });
      }
      const hit = sharedGet(key);
      if (hit) {
        counts.local++;
        return answer(hit);
      }
      if (id === 0) return answer(loadHere(key));
      counts.forwarded++;
      return ask(0, key).then(answer);
    },
  });
}

if (isMainThread) {
  const design = arg("design") ?? "owner";
  const n = Number(arg("workers") ?? 1);
  const port = Number(arg("port") ?? 0);
  if (!["owner", "copies", "shared"].includes(design)) throw new Error(`--design: owner, copies or shared`);
  const sabs = [
    new SharedArrayBuffer(VERSIONS * 4),
    new SharedArrayBuffer(SLOTS * 16),
    new SharedArrayBuffer(ARENA),
    new SharedArrayBuffer(8),
  ];
  // ports[i][j]: worker i's end of the channel to worker j.
  const ports: MessagePort[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      if (design !== "owner" && i !== 0) continue;
      const c = new MessageChannel();
      ports[i]![j] = c.port1;
      ports[j]![i] = c.port2;
    }
  for (let i = 1; i < n; i++) {
    const init: Init = { id: i, n, design, port, ports: ports[i]!, sabs };
    new Worker(new URL(import.meta.url), { workerData: init, transferList: ports[i]!.filter(Boolean) });
  }
  serve({ id: 0, n, design, port, ports: ports[0]!, sabs });
} else {
  serve(workerData as Init);
}
