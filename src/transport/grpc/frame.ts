/**
 * gRPC's length-prefixed message framing: one byte of flags (bit 0 = compressed), a 4-byte
 * big-endian length, then the message. A unary call carries exactly one such frame each way.
 */

/** FRAME_HEADER_BYTES is the size of the prefix before every gRPC message. */
export const FRAME_HEADER_BYTES = 5;

/** frame prefixes message with an uncompressed gRPC frame header. */
export function frame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(FRAME_HEADER_BYTES + message.length);
  const n = message.length;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

/** FrameProblem says why a body is not one well-formed frame: "compressed" needs a codec we do not have. */
export type FrameProblem = "empty" | "truncated" | "compressed" | "bad-flags" | "too-large" | "trailing";

/** ParsedFrame is the one message of a unary body, or why there is none. */
export type ParsedFrame = { ok: true; message: Uint8Array } | { ok: false; problem: FrameProblem; detail: string };

/**
 * parseUnary reads the single frame of a unary call's body. A length over maxBytes, a length past
 * the end, a compressed flag or bytes after the frame are all refused: a unary body is exactly one
 * uncompressed frame.
 */
export function parseUnary(body: Uint8Array, maxBytes: number): ParsedFrame {
  if (body.length === 0) return { ok: false, problem: "empty", detail: "no gRPC message in the body" };
  if (body.length < FRAME_HEADER_BYTES)
    return { ok: false, problem: "truncated", detail: `gRPC frame header truncated at ${body.length} of 5 bytes` };
  const flags = body[0]!;
  if (flags === 1)
    return {
      ok: false,
      problem: "compressed",
      detail: "compressed gRPC messages are not supported (send grpc-encoding identity)",
    };
  if (flags !== 0)
    return { ok: false, problem: "bad-flags", detail: `gRPC frame flags 0x${flags.toString(16)} are not defined` };
  const n = ((body[1]! << 24) >>> 0) + (body[2]! << 16) + (body[3]! << 8) + body[4]!;
  if (n > maxBytes)
    return { ok: false, problem: "too-large", detail: `gRPC message of ${n} bytes is over the limit of ${maxBytes}` };
  const end = FRAME_HEADER_BYTES + n;
  if (end > body.length)
    return {
      ok: false,
      problem: "truncated",
      detail: `gRPC message declares ${n} bytes but the body holds ${body.length - FRAME_HEADER_BYTES}`,
    };
  if (end < body.length)
    return {
      ok: false,
      problem: "trailing",
      detail: `${body.length - end} bytes after the gRPC message of a unary call`,
    };
  return { ok: true, message: body.subarray(FRAME_HEADER_BYTES, end) };
}
