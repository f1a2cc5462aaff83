import { ByteView } from "../core/byteview.ts";
import { GeeCacheError } from "../core/errors.ts";
import { plainError } from "../core/plain-error.ts";
import { formatDuration } from "../core/units.ts";
import type { Getter } from "../group/loader.ts";
import { redactUrl } from "./redact.ts";

/** DEFAULT_HTTP_TIMEOUT is how long (ms) an HTTP source waits for the origin's whole answer. */
export const DEFAULT_HTTP_TIMEOUT = 5000;

/** KEY is the placeholder in an HTTP source's URL template that the encoded key replaces. */
const KEY = "{key}";

/** NOT_STORED is an expiry in the past (Unix ms 1): the group hands the value to its caller and keeps no copy. */
const NOT_STORED = 1;

/** Fetch is the part of `fetch` an HTTP source uses; tests pass their own. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** HttpSourceOptions name the origin and how to ask it. */
export interface HttpSourceOptions {
  /**
   * url is the origin's URL with {key} where the key goes, such as http://origin/values/{key};
   * the key is encodeURIComponent-ed. Without {key}, the key is appended as one more path segment
   * (http://origin/values → http://origin/values/KEY). http:// and https:// both work.
   */
  url: string;
  /** timeout bounds the request, body included, in ms (default DEFAULT_HTTP_TIMEOUT). */
  timeout?: number;
  /** headers are sent with every request (e.g. an Authorization header); they are never logged. */
  headers?: Record<string, string>;
  fetch?: Fetch;
}

/**
 * httpSource returns a loader that GETs each missed key from an origin. 200 (or 203) is the value,
 * 404 and 410 are "not found" (never cached), any other status, a timeout or a connection error is
 * LOAD_FAILED (503). The origin's Cache-Control sets the value's lifetime: `s-maxage` or
 * `max-age` (minus `Age`) becomes its TTL, overriding the group's; `no-store`, `no-cache`,
 * `private` or a lifetime of 0 let this request have the value but keep no copy in the cache;
 * no Cache-Control leaves the group's TTL.
 */
export function httpSource(options: HttpSourceOptions): Getter {
  const template = httpTemplate(options.url);
  const timeout = options.timeout ?? DEFAULT_HTTP_TIMEOUT;
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new TypeError(`httpSource: timeout must be a number of ms above 0, got ${timeout}`);
  const doFetch: Fetch = options.fetch ?? ((url, init) => fetch(url, init));
  const headers = options.headers ?? {};
  const origin = redactUrl(template);
  const keyInPath = !/[?#]/.test(template.slice(0, template.indexOf(KEY)));

  return async (key) => {
    // URL parsing folds a "." or ".." path segment (even as %2E) into its parent, so such a key
    // would fetch another resource; it cannot be asked for in the path.
    if (keyInPath && (key === "." || key === "..")) {
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `origin ${origin}: key ${JSON.stringify(key)} cannot be sent in a URL path; put {key} in the query`,
      );
    }
    const url = template.replaceAll(KEY, encodeURIComponent(key));
    const signal = AbortSignal.timeout(timeout);
    const fail = (why: string, cause?: unknown) =>
      new GeeCacheError(
        "LOAD_FAILED",
        `origin ${origin} ${why} (key ${JSON.stringify(key)})`,
        cause === undefined ? undefined : { cause },
      );
    let res: Response;
    let body: ByteView;
    try {
      res = await doFetch(url, { headers, signal });
      if (res.status !== 200 && res.status !== 203) {
        await res.body?.cancel();
        if (res.status === 404 || res.status === 410) return undefined;
        throw fail(`answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
      }
      // The body's buffer is ours alone: the cache adopts it instead of copying it again.
      body = ByteView.adopt(await res.bytes());
    } catch (err) {
      if (err instanceof GeeCacheError) throw err;
      if (signal.aborted) throw fail(`timed out after ${formatDuration(timeout)}`, err);
      throw fail(`is unreachable: ${plainError(err)}`, err);
    }
    const ttl = freshness(res.headers);
    if (ttl === undefined) return body;
    return ttl > 0 ? { value: body, ttl } : { value: body, expiresAt: NOT_STORED };
  };
}

/** httpTemplate checks an HTTP source's URL and returns it with {key} in place; the TypeError says what to fix. */
export function httpTemplate(url: string): string {
  let template = url;
  if (!url.includes(KEY)) {
    if (/[?#]/.test(url))
      throw new TypeError(`${JSON.stringify(redactUrl(url))} has a query but no ${KEY}: put ${KEY} where the key goes`);
    template = `${url.replace(/\/+$/, "")}/${KEY}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(template.replaceAll(KEY, "k"));
  } catch {
    throw new TypeError(`${JSON.stringify(redactUrl(url))} is not a URL; use http://host:port/path/${KEY}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new TypeError(`${JSON.stringify(redactUrl(url))} is not an http:// or https:// URL`);
  return template;
}

/**
 * freshness reads how long a shared cache may keep a response: ms from s-maxage or max-age minus
 * Age, 0 when it must not keep it, undefined when Cache-Control does not say.
 */
export function freshness(headers: Headers): number | undefined {
  const cc = headers.get("cache-control");
  if (!cc) return undefined;
  const directives = new Map<string, string>();
  for (const part of cc.split(",")) {
    const [name = "", value = ""] = part.split("=", 2).map((s) => s.trim());
    if (name) directives.set(name.toLowerCase(), value.replace(/^"(.*)"$/, "$1"));
  }
  if (directives.has("no-store") || directives.has("no-cache") || directives.has("private")) return 0;
  const maxAge = directives.get("s-maxage") ?? directives.get("max-age");
  if (maxAge === undefined || !/^\d+$/.test(maxAge)) return undefined;
  const age = Number(headers.get("age") ?? 0);
  return Math.max(0, Number(maxAge) - (Number.isFinite(age) && age > 0 ? age : 0)) * 1000;
}
