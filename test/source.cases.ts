// The source conformance suite: one set of cases that every source (a Getter over an origin,
// src/sources/*.ts) passes, run by test/source-<name>.test.ts against a real backend. Every case
// loads through a Group, as a node does: the group turns "no value" into NOT_FOUND and a throw into
// LOAD_FAILED (src/group/loader.ts). A Getter is not given the caller's signal: an aborted caller
// stops waiting at once, and the load goes on for the others until the source's own bound ends it.
import { describe, expect } from "bun:test";
import { Group } from "../src/group/group.ts";
import type { Getter } from "../src/group/loader.ts";
import { caseOf, type Skips } from "./helpers/cases.ts";
import { mulberry32 } from "./helpers/prng.ts";
import { outcome } from "./helpers/transport-harness.ts";
import { until } from "./helpers/until.ts";

/** SourceCase names a case, for an implementation's skips. */
export type SourceCase = "value" | "missing" | "failure" | "timeout" | "abort" | "big";

/** Stalled is a source whose backend takes each request and never answers. */
export interface Stalled {
  getter: Getter;
  /** asked counts the requests (or connections) the backend took. */
  asked(): number;
}

/** Backend is one source's origin, filled for a case, and sources over it; `await using` closes and removes them. */
export interface Backend extends AsyncDisposable {
  /** getter reads the rows open was given. */
  getter: Getter;
  /** broken is a source of the same kind whose every read fails (a table that is gone, an origin answering 500). */
  broken?: Getter;
  /** stalled is a source of the same kind, bounded by the timeout open was given, whose backend never answers. */
  stalled?: Stalled;
}

/** SourceImpl is one kind of source under the suite. */
export interface SourceImpl {
  name: string;
  /** open puts rows (key -> value bytes) into a fresh backend; timeoutMs is the stalled source's bound. */
  open(rows: ReadonlyMap<string, Uint8Array>, timeoutMs: number): Promise<Backend>;
  /** skip lists the cases this source cannot be put through, each with the reason. */
  skip?: Skips<SourceCase>;
}

/** TIMEOUT (ms) bounds the stalled source; MARGIN is how late past it a load may end on a busy machine. */
const TIMEOUT = 300;
const MARGIN = 1500;
/** BIG is the size of the big value: 4 MiB of seeded random bytes (every byte value, no text). */
const BIG = 4 * 1024 * 1024;

function bigValue(): Uint8Array {
  const next = mulberry32(21);
  const bytes = new Uint8Array(BIG);
  for (let i = 0; i < BIG; i++) bytes[i] = (next() * 256) | 0;
  return bytes;
}

const text = (s: string) => new TextEncoder().encode(s);
/** SMALL are the rows the value case reads: text, a key that a URL must escape, and bytes that are no text. */
const SMALL: ReadonlyArray<[string, Uint8Array]> = [
  ["Tom", text("630")],
  ["Zoë 🙂/?&#", text("unicode")],
  ["bytes", new Uint8Array([0, 1, 127, 128, 255])],
];
const ROWS: ReadonlyMap<string, Uint8Array> = new Map([...SMALL, ["big", bigValue()]]);

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const group = (getter: Getter) => new Group({ name: "scores", getter, cacheBytes: 4 * BIG });

/** sourceCases registers the conformance cases for one kind of source. */
export function sourceCases(impl: SourceImpl): void {
  const it = caseOf(impl.skip);

  describe(`source ${impl.name}`, () => {
    it("value", "a stored value comes back byte for byte (text, an escaped key, bytes that are no text)", async () => {
      await using b = await impl.open(ROWS, TIMEOUT);
      const g = group(b.getter);
      const got: Record<string, string> = {};
      for (const [key] of SMALL) got[key] = hex((await g.get(key)).bytes());
      expect(got).toEqual(Object.fromEntries(SMALL.map(([k, v]) => [k, hex(v)])));
    });

    it("missing", "a key the backend does not have is NOT_FOUND", async () => {
      await using b = await impl.open(ROWS, TIMEOUT);
      expect(await outcome(group(b.getter).get("nobody"))).toBe("NOT_FOUND");
    });

    it("failure", "a read the backend fails is LOAD_FAILED", async () => {
      await using b = await impl.open(ROWS, TIMEOUT);
      expect(await outcome(group(b.broken!).get("Tom"))).toBe("LOAD_FAILED");
    });

    it(
      "timeout",
      `a backend that never answers fails the load with LOAD_FAILED after the timeout (${TIMEOUT} ms)`,
      async () => {
        await using b = await impl.open(ROWS, TIMEOUT);
        const t0 = performance.now();
        const code = await outcome(group(b.stalled!.getter).get("Tom"));
        const ms = performance.now() - t0;
        expect({ code, asked: b.stalled!.asked(), inTime: ms >= TIMEOUT * 0.9 && ms < TIMEOUT + MARGIN }).toEqual({
          code: "LOAD_FAILED",
          asked: 1,
          inTime: true,
        });
      },
    );

    it(
      "abort",
      "an aborted caller is ABORTED at once; the load goes on for the others and ends by its timeout",
      async () => {
        await using b = await impl.open(ROWS, TIMEOUT);
        const g = group(b.stalled!.getter);
        const ac = new AbortController();
        const aborted = outcome(g.get("Tom", { signal: ac.signal }));
        await until("the backend to take the request", () => b.stalled!.asked() > 0, { intervalMs: 5 });
        const other = outcome(g.get("Tom")); // shares the load in flight
        const t0 = performance.now();
        ac.abort();
        expect({ code: await aborted, quick: performance.now() - t0 < MARGIN }).toEqual({
          code: "ABORTED",
          quick: true,
        });
        expect({ other: await other, asked: b.stalled!.asked() }).toEqual({ other: "LOAD_FAILED", asked: 1 });
      },
    );

    it("big", `a ${BIG / 1024 / 1024} MiB value comes back byte for byte`, async () => {
      await using b = await impl.open(ROWS, TIMEOUT);
      const want = ROWS.get("big")!;
      const got = (await group(b.getter).get("big")).bytes();
      expect({ length: got.length, same: Buffer.compare(got, want) === 0 }).toEqual({ length: BIG, same: true });
    });
  });
}
