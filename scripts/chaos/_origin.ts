// The chaos suite's origin: an HTTP source in the driver process that counts its loads.
import type { Server } from "bun";

/** ORIGIN_PATH is where the origin serves values: ORIGIN_PATH + key. */
const ORIGIN_PATH = "/v/";

/**
 * Origin serves `key@vN` for every key (N = its version, 0 at first) on /v/KEY, counts each load
 * per key, answers 503 while `failing`, and 404 for keys that start with "missing".
 */
export class Origin implements Disposable {
  readonly #server: Server<undefined>;
  readonly #loads = new Map<string, number>(); // key -> loads answered 200
  /** failing makes every request a 503 (the origin is down). */
  failing = false;
  /** version is the version of every value; bump it to make the origin return new values. */
  version = 0;
  /** total counts every 200 answered. */
  total = 0;

  /** constructor listens on hostname (a loopback address, or the partition bridge's) on a free port. */
  constructor(hostname = "127.0.0.1") {
    this.#server = Bun.serve({
      hostname,
      port: 0,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        if (!path.startsWith(ORIGIN_PATH)) return new Response("no such path\n", { status: 404 });
        if (this.failing) return new Response("origin down\n", { status: 503 });
        const key = decodeURIComponent(path.slice(ORIGIN_PATH.length));
        if (key.startsWith("missing")) return new Response("not found\n", { status: 404 });
        this.#loads.set(key, (this.#loads.get(key) ?? 0) + 1);
        this.total++;
        return new Response(this.value(key));
      },
    });
  }

  /** source is the --source flag of the nodes. */
  get source(): string {
    return `http://${this.#server.hostname}:${this.#server.port}${ORIGIN_PATH}{key}`;
  }

  /** value is what the origin answers for key now. */
  value(key: string): string {
    return `${key}@v${this.version}`;
  }

  /** loads returns how many times key was loaded (every key's sum without one). */
  loads(key?: string): number {
    return key === undefined ? this.total : (this.#loads.get(key) ?? 0);
  }

  [Symbol.dispose](): void {
    void this.#server.stop(true);
  }
}
