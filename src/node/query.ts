/** QueryParams is the read side of URLSearchParams: the first value of a name, or null. */
export interface QueryParams {
  get(name: string): string | null;
}

const NONE: QueryParams = { get: () => null };

/**
 * queryParams reads a request URL's query exactly as `new URL(url).searchParams` does, without
 * building a URL when no character of the query needs decoding or escaping (the usual
 * `?key=Tom&group=scores`): then splitting on "&" and the first "=" is all URLSearchParams does.
 * Anything else (%, +, quotes, <, >, #, spaces, controls, non-ASCII) goes through URLSearchParams.
 */
export function queryParams(url: string): QueryParams {
  const q = url.indexOf("?");
  if (q < 0) return NONE;
  const len = url.length;
  for (let i = q + 1; i < len; i++) {
    const c = url.charCodeAt(i);
    // ' is in the query percent-encode set of special schemes such as http.
    if (
      c <= 0x20 ||
      c >= 0x7f ||
      c === 0x22 ||
      c === 0x23 ||
      c === 0x25 ||
      c === 0x27 ||
      c === 0x2b ||
      c === 0x3c ||
      c === 0x3e
    ) {
      return new URL(url).searchParams;
    }
  }
  return { get: (name) => plainGet(url, q + 1, name) };
}

/** plainGet returns the value of the first `name` or `name=value` pair in url[from:], or null. */
function plainGet(url: string, from: number, name: string): string | null {
  const len = url.length;
  const n = name.length;
  for (let start = from; start <= len; ) {
    let end = url.indexOf("&", start);
    if (end < 0) end = len;
    if (end > start) {
      const eq = url.indexOf("=", start);
      if (eq >= 0 && eq < end) {
        if (eq - start === n && url.startsWith(name, start)) return url.slice(eq + 1, end);
      } else if (end - start === n && url.startsWith(name, start)) {
        return "";
      }
    }
    start = end + 1;
  }
  return null;
}
