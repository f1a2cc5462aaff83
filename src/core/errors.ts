/** ErrorCode names every way a geecache operation can fail; `httpStatus` maps each to a status. */
export type ErrorCode =
  | "INVALID_ARGUMENT" // the caller passed a bad key, value or option
  | "NOT_FOUND" // the source has no value for the key (never cached)
  | "UNKNOWN_GROUP" // no group by that name
  | "NO_ROUTE" // no such path on a node (a peer with another base path)
  | "LOAD_FAILED" // the loader (source) failed
  | "PEER_FAILED" // a peer could not be reached or answered garbage
  | "TOO_LARGE" // a value or body over its limit
  | "KEY_TOO_LONG" // a key over its limit
  | "UNAUTHORIZED" // a missing or wrong token
  | "FORBIDDEN" // refused whatever the token: protected mode and a caller on another host
  | "METHOD_NOT_ALLOWED"
  | "ABORTED" // the caller's signal fired
  | "INTERNAL"; // a bug: anything that is not one of the above

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  UNKNOWN_GROUP: 404,
  NO_ROUTE: 404,
  LOAD_FAILED: 503,
  PEER_FAILED: 502,
  TOO_LARGE: 413,
  KEY_TOO_LONG: 414,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  METHOD_NOT_ALLOWED: 405,
  ABORTED: 499,
  INTERNAL: 500,
};

/**
 * GeeCacheError is the one error class of geecache: a message, a code, an optional cause, and for a
 * bad setting the setting's name in `flag` (so a caller never parses the message to find it).
 */
export class GeeCacheError extends Error {
  override readonly name = "GeeCacheError";
  readonly code: ErrorCode;
  readonly flag?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; flag?: string }) {
    super(message, options);
    this.code = code;
    if (options?.flag !== undefined) this.flag = options.flag;
  }
}

/** httpStatus maps an error to the HTTP status a server answers with (500 for anything unknown). */
export function httpStatus(err: unknown): number {
  return err instanceof GeeCacheError ? STATUS[err.code] : 500;
}

/** isNotFound tells whether err is the source's "no such key". */
export function isNotFound(err: unknown): boolean {
  return err instanceof GeeCacheError && err.code === "NOT_FOUND";
}

/** notFound builds the error a loader throws (or returns) when the key does not exist. */
export function notFound(key: string, group?: string): GeeCacheError {
  return new GeeCacheError(
    "NOT_FOUND",
    group ? `key ${JSON.stringify(key)} not found in group ${group}` : `key ${JSON.stringify(key)} not found`,
  );
}

/** errorMessage returns err's message, or err as text when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
