import { errorMessage, GeeCacheError } from "./errors.ts";
import { formatDuration } from "./units.ts";

/** WORDS say a network failure the way people do, by the code Bun, node:net, node:http2 or Bun.SQL gives it. */
const WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ERR_POSTGRES_CONNECTION_REFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  ConnectionClosed: "connection reset by peer",
  EPIPE: "connection reset by peer",
  ERR_POSTGRES_CONNECTION_CLOSED: "connection reset by peer",
  ECONNABORTED: "connection aborted",
  ETIMEDOUT: "timed out",
  TimeoutError: "timed out",
  UND_ERR_CONNECT_TIMEOUT: "timed out",
  ERR_POSTGRES_CONNECTION_TIMEOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_NONAME: "host not found",
  EAI_AGAIN: "host lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate is self-signed and not trusted (--tls-ca)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate not trusted (--tls-ca)",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate not trusted (--tls-ca)",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate is for another host name",
};

/** PlainErrorOptions give what the error itself does not know. */
export interface PlainErrorOptions {
  /** timeout (ms) is written into "timed out after 2s". */
  timeout?: number;
  /** peer is dropped from the start of a geecache message ("peer URL: why" reads "why"), since the caller names it. */
  peer?: string;
}

/**
 * plainError words err for a log line, a 502 body or the status page, with its detail once: a
 * network failure by its code ("connection refused", "timed out after 2s", "connection reset by
 * peer", "host not found"), looked for along its cause chain; a GeeCacheError keeps its message
 * (already ours); anything else its message.
 */
export function plainError(err: unknown, options: PlainErrorOptions = {}): string {
  if (err instanceof GeeCacheError) return withoutPeer(err.message, options.peer);
  const words = codeWords(err);
  if (words === undefined) return errorMessage(err);
  return words === "timed out" && options.timeout !== undefined
    ? `timed out after ${formatDuration(options.timeout)}`
    : words;
}

/** codeWords finds the words for the first known code (or error name) along err's cause chain. */
function codeWords(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === "string" && WORDS[code] !== undefined) return WORDS[code];
    if (typeof name === "string" && WORDS[name] !== undefined) return WORDS[name];
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function withoutPeer(message: string, peer: string | undefined): string {
  if (peer === undefined || !message.startsWith(`peer ${peer}`)) return message;
  const rest = message.slice(`peer ${peer}`.length);
  if (rest.startsWith(": ")) return rest.slice(2);
  return rest.startsWith(" ") ? rest.slice(1) : message;
}
