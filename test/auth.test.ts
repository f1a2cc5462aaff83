import { describe, expect, test } from "bun:test";
import { bearerMatches } from "../src/core/bearer.ts";

const req = (authorization?: string) =>
  new Request("http://x/", { headers: authorization === undefined ? {} : { authorization } });

describe("bearerMatches", () => {
  test.each<{ header: string | undefined; want: boolean }>([
    { header: "Bearer s3cret", want: true },
    { header: "bearer s3cret", want: true }, // the scheme is case-insensitive
    { header: "BEARER s3cret", want: true },
    { header: "Bearer s3cre", want: false },
    { header: "Basic s3cret", want: false },
    { header: "s3cret", want: false },
    { header: "Bearer ", want: false },
    { header: undefined, want: false },
  ])("$header -> $want", ({ header, want }) => {
    expect(bearerMatches(req(header), "s3cret")).toBe(want);
  });
});
