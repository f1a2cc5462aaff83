import { timingSafeEqual } from "node:crypto";

/**
 * bearerMatches tells whether req carries `Authorization: Bearer <token>`. Both sides are hashed
 * first so the comparison takes the same time whatever the length or content of a wrong guess.
 */
export function bearerMatches(req: Request, token: string): boolean {
  return authorizationMatches(req.headers.get("authorization") ?? undefined, token);
}

/** authorizationMatches is bearerMatches for the value of an `authorization` header (gRPC metadata too). */
export function authorizationMatches(header: string | undefined, token: string): boolean {
  header ??= "";
  const given = /^bearer /i.test(header) ? header.slice(7) : ""; // the scheme is case-insensitive (RFC 7235)
  const a = new Bun.CryptoHasher("sha256").update(given).digest();
  const b = new Bun.CryptoHasher("sha256").update(token).digest();
  return timingSafeEqual(a, b) && given !== "";
}
