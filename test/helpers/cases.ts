// What the conformance suites (test/*.cases.ts) share: a case that an implementation may skip, the
// reason shown in the test's title.
import { test } from "bun:test";

/** Skips name the cases an implementation cannot be put through, each with the reason. */
export type Skips<Case extends string> = Partial<Record<Case, string>>;

/** caseOf returns a `test` that registers a named case, or skips it with its reason when skips lists it. */
export function caseOf<Case extends string>(skips: Skips<Case> = {}) {
  return (name: Case, title: string, fn: () => Promise<void>): void => {
    const why = skips[name];
    if (why === undefined) test(title, fn);
    else test.skip(`${title} (skipped: ${why})`, fn);
  };
}
