// The discovery conformance suite: one set of cases that every Discovery (src/cluster/discovery.ts)
// passes, run by test/discovery-<name>.test.ts against the real thing it reads (a list, a file,
// dnsmasq). A case drives the backend (what the mechanism reads) and compares every view the
// mechanism reported, in order, as a whole.
import { describe, expect } from "bun:test";
import type { Discovery } from "../src/cluster/discovery.ts";
import { caseOf, type Skips } from "./helpers/cases.ts";
import { until } from "./helpers/until.ts";

/** DiscoveryCase names a case, for an implementation's skips. */
export type DiscoveryCase = "first" | "empty first" | "change" | "flap" | "empty" | "failure";

/** Backend is what one mechanism reads, set up for one case; `await using` stops the mechanism and removes it. */
export interface Backend extends AsyncDisposable {
  discovery: Discovery;
  /** events are what the mechanism reported (its onError or onEvent), in order. */
  events: string[];
  /** show makes the backend hold urls from now on ([]: no entries, no records) and answer again after fail(). */
  show(urls: readonly string[]): Promise<void>;
  /** fail makes every read fail until the next show (the file is gone, the DNS server does not answer). */
  fail(): Promise<void>;
  /**
   * read lets the mechanism read the backend once and resolves once it has acted on what it read. It is undefined
   * where reads run freely on a timer and cannot be counted; the cases then wait for what they expect.
   */
  read?(): Promise<void>;
}

/** DiscoveryImpl is one mechanism under the suite. */
export interface DiscoveryImpl {
  name: string;
  /** open sets up a backend holding urls; the cases start its discovery. */
  open(urls: readonly string[]): Promise<Backend>;
  /**
   * empty says what an empty answer does: "kept" (a glitch: the last good view stays, and it is reported) or
   * "applied" (the list of no peers).
   */
  empty: "kept" | "applied";
  /** skip lists the cases this mechanism cannot be put through, each with the reason. */
  skip?: Skips<DiscoveryCase>;
}

/** A, B and C are three views; they are sorted, as DNS answers are. */
const A = ["http://127.0.0.2:7000", "http://127.0.0.3:7000"];
const B = ["http://127.0.0.2:7000", "http://127.0.0.3:7000", "http://127.0.0.4:7000"];
const C = ["http://127.0.0.5:7000"];

/** MOST_READS bounds how many reads a counted backend gets to show a change (DNS needs two). */
const MOST_READS = 4;

/** Run is a started mechanism and every view it reported. */
interface Run extends AsyncDisposable {
  b: Backend;
  views: string[][];
  /** atStart is what had been reported when start() resolved. */
  atStart: string[][];
}

async function run(impl: DiscoveryImpl, urls: readonly string[]): Promise<Run> {
  const b = await impl.open(urls);
  const views: string[][] = [];
  const stop = new AbortController();
  await b.discovery.start((u) => views.push([...u]), stop.signal);
  const atStart = views.map((v) => [...v]);
  return {
    b,
    views,
    atStart,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await b[Symbol.asyncDispose]();
    },
  };
}

/** settle gives the mechanism reads (counted ones where it can) until done() holds. */
async function settle(r: Run, what: string, done: () => boolean): Promise<void> {
  if (!r.b.read) {
    await until(what, done, { timeoutMs: 5000, intervalMs: 5 });
    return;
  }
  for (let i = 0; i < MOST_READS && !done(); i++) await r.b.read();
  if (!done()) throw new Error(`${what}: not after ${MOST_READS} reads; views ${JSON.stringify(r.views)}`);
}

const last = (r: Run) => JSON.stringify(r.views.at(-1));

/** discoveryCases registers the conformance cases for one mechanism. */
export function discoveryCases(impl: DiscoveryImpl): void {
  const it = caseOf(impl.skip);

  describe(`discovery ${impl.name}`, () => {
    it("first", "the first view is reported before start() resolves", async () => {
      await using r = await run(impl, A);
      expect({ atStart: r.atStart, events: r.b.events }).toEqual({ atStart: [A], events: [] });
    });

    it(
      "empty first",
      `an empty first answer is ${impl.empty === "kept" ? "reported, no view" : "no peers"}`,
      async () => {
        await using r = await run(impl, []);
        if (impl.empty === "applied")
          expect({ atStart: r.atStart, events: r.b.events }).toEqual({ atStart: [[]], events: [] });
        else expect({ atStart: r.atStart, reported: r.b.events.length }).toEqual({ atStart: [], reported: 1 });
      },
    );

    it("change", "a change is reported, once", async () => {
      await using r = await run(impl, A);
      await r.b.show(B);
      await settle(r, "the new view", () => last(r) === JSON.stringify(B));
      expect(r.views).toEqual([A, B]);
    });

    it("flap", "a view seen once and gone at the next read is never reported; one seen twice is", async () => {
      await using r = await run(impl, A);
      const read = r.b.read;
      if (!read) throw new Error(`${impl.name} has no counted reads: skip this case with the reason`);
      await r.b.show(B);
      await read();
      await r.b.show(A);
      await read();
      await read();
      expect(r.views).toEqual([A]);
      await r.b.show(C);
      await read();
      await read();
      expect(r.views).toEqual([A, C]);
    });

    it(
      "empty",
      `an empty answer after a good one: ${impl.empty === "kept" ? "reported, the last view kept" : "no peers"}`,
      async () => {
        await using r = await run(impl, A);
        await r.b.show([]);
        if (impl.empty === "applied") {
          await settle(r, "the empty view", () => last(r) === "[]");
          expect({ views: r.views, events: r.b.events }).toEqual({ views: [A, []], events: [] });
          return;
        }
        await settle(r, "the empty answer to be reported", () => r.b.events.length > 0);
        expect({ views: r.views, reported: r.b.events.length }).toEqual({ views: [A], reported: 1 });
        await r.b.show(C);
        await settle(r, "the next good view", () => last(r) === JSON.stringify(C));
        expect(r.views).toEqual([A, C]);
      },
    );

    it("failure", "a failed read is reported and the last view kept; the next good view is reported", async () => {
      await using r = await run(impl, A);
      await r.b.fail();
      await settle(r, "the failure to be reported", () => r.b.events.length > 0);
      expect({ views: r.views, reported: r.b.events.length }).toEqual({ views: [A], reported: 1 });
      await r.b.show(C);
      await settle(r, "the next good view", () => last(r) === JSON.stringify(C));
      expect(r.views).toEqual([A, C]);
    });
  });
}
