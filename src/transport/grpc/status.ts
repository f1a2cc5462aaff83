import { type ErrorCode, GeeCacheError } from "../../core/errors.ts";

/** GrpcStatus names the gRPC status codes geecache sends or reads. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  KEY_TOO_LONG: GrpcStatus.INVALID_ARGUMENT,
  UNKNOWN_GROUP: GrpcStatus.INVALID_ARGUMENT,
  LOAD_FAILED: GrpcStatus.UNAVAILABLE,
  ABORTED: GrpcStatus.DEADLINE_EXCEEDED,
  UNAUTHORIZED: GrpcStatus.UNAUTHENTICATED,
  FORBIDDEN: GrpcStatus.PERMISSION_DENIED,
  TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
};

/** grpcStatusOf maps an error to the gRPC status a server answers with (INTERNAL for anything unknown). */
export function grpcStatusOf(err: unknown): number {
  return (err instanceof GeeCacheError && BY_CODE[err.code]) || GrpcStatus.INTERNAL;
}

/**
 * errorFromStatus is how a client sees a peer's non-OK status: NOT_FOUND is an answer about the key,
 * UNAVAILABLE the peer's source failing (LOAD_FAILED); every other status is the peer failing
 * (PEER_FAILED). Either way but NOT_FOUND the group falls back to loading locally.
 */
export function errorFromStatus(status: number, message: string, peer: string): GeeCacheError {
  if (status === GrpcStatus.NOT_FOUND)
    return new GeeCacheError("NOT_FOUND", message || `key not found on peer ${peer}`);
  // The peer answered that its own source failed: it is alive (peer health must not count it).
  if (status === GrpcStatus.UNAVAILABLE)
    return new GeeCacheError("LOAD_FAILED", `peer ${peer}: ${message || "its source failed"}`);
  return new GeeCacheError(
    "PEER_FAILED",
    `peer ${peer} answered gRPC status ${status}${message ? `: ${message}` : ""}`,
  );
}

/**
 * encodeGrpcMessage makes text one line and percent-encodes it as the grpc-message header requires (printable ASCII but
 * "%" as is).
 */
export function encodeGrpcMessage(text: string): string {
  const line = text.split("\n", 1)[0]!.slice(0, 1000);
  let out = "";
  for (const b of new TextEncoder().encode(line)) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** decodeGrpcMessage undoes encodeGrpcMessage; a malformed escape is kept as it came. */
export function decodeGrpcMessage(header: string): string {
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

/** parseGrpcTimeout reads a grpc-timeout header ("100m", "2S", ...) as ms; undefined when absent or malformed. */
export function parseGrpcTimeout(header: string | undefined): number | undefined {
  const m = header === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(header);
  if (!m) return undefined;
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[m[2] as "H"];
  return Number(m[1]) * unitMs;
}

/** formatGrpcTimeout writes ms as a grpc-timeout header (at most 8 digits, as the spec allows). */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}
