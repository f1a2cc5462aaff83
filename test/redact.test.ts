import { describe, expect, test } from "bun:test";
import { redactUrl } from "../src/sources/redact.ts";

describe("redactUrl", () => {
  test.each<{ url: string; want: string }>([
    { url: "postgres://app:secret@db:5432/shop", want: "postgres://app:***@db:5432/shop" },
    { url: "postgres://app@db/shop", want: "postgres://app@db/shop" },
    { url: "postgres://db/shop?password=secret&x=1", want: "postgres://db/shop?password=***&x=1" },
    // Mistyped passwords holding "/", "?" or "#" make the URL unparsable; they must be hidden all the same.
    { url: "postgres://user:hunter2/x@db:5432/app", want: "postgres://user:***@db:5432/app" },
    { url: "postgres://user:a?b#c@db/app", want: "postgres://user:***@db/app" },
    { url: "http://u:p/w@origin/{key}", want: "http://u:***@origin/{key}" },
    { url: "http://origin/v/{key}", want: "http://origin/v/{key}" },
  ])("$url", ({ url, want }) => {
    expect(redactUrl(url)).toBe(want);
  });
});
