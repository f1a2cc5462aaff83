import { GeeCacheError } from "../core/errors.ts";

/** PEER_SCHEMES are the URL schemes a peer may have: HTTP/1.1 peers and gRPC peers, each plain or over TLS. */
export const PEER_SCHEMES = ["http:", "https:", "grpc:", "grpcs:"] as const;

/**
 * peerUrl checks and normalizes a peer's address: a bare port means http://127.0.0.1:PORT, and a
 * URL must be scheme://host:port with no path, query or fragment (a trailing "/" is dropped). It
 * is the one rule for peer addresses: flags, the peer set and discovery all use it. A bad address
 * throws a GeeCacheError INVALID_ARGUMENT that says what was expected.
 */
export function peerUrl(text: string): string {
  const p = text.trim().replace(/\/+$/, "");
  const wrong = (why: string) =>
    new GeeCacheError(
      "INVALID_ARGUMENT",
      `peer URL must look like http://host:port (or https://, grpc://, grpcs://)${why}, got ${JSON.stringify(text)}`,
    );
  if (/^\d+$/.test(p)) {
    const port = Number(p);
    if (port < 1 || port > 65535) throw new GeeCacheError("INVALID_ARGUMENT", `port ${p} is out of range 1 to 65535`);
    return `http://127.0.0.1:${port}`;
  }
  let url: URL;
  try {
    url = new URL(p);
  } catch {
    throw wrong(" or be a bare port");
  }
  if (!(PEER_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw wrong("");
  }
  if (url.host === "") throw wrong(": no host");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    throw wrong(" with no path, query or credentials");
  }
  // URL.origin is "null" for schemes it does not know (grpc:), so build it from the parts.
  return `${url.protocol}//${url.host}`;
}
