/**
 * The few protobuf pieces geecache's wire formats are written with: varints, length-delimited
 * fields, one walker over a message's fields, and int64 Unix nanoseconds as Unix ms. The peer
 * answer (protocol.ts), the gRPC messages and both batch formats are built on these alone.
 */

/** MAX_EXPIRES_AT is the latest expiry (Unix ms) that an int64 of Unix nanoseconds can carry. */
export const MAX_EXPIRES_AT = 9_223_372_036_854;

const strict = new TextDecoder("utf-8", { fatal: true });

/** varintSize is the number of bytes v takes as a protobuf varint. */
export function varintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** putVarint writes v as a protobuf varint at out[o] and returns the offset after it. */
export function putVarint(out: Uint8Array, o: number, v: bigint): number {
  while (v >= 0x80n) {
    out[o++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[o++] = Number(v);
  return o;
}

/** readVarint reads a protobuf varint at buf[o]: its value and the offset after it; a RangeError when malformed. */
export function readVarint(buf: Uint8Array, o: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (o >= buf.length) throw new RangeError("malformed protobuf: truncated varint");
    const b = buf[o++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, o];
    shift += 7n;
  }
  throw new RangeError("malformed protobuf: varint longer than 10 bytes");
}

/** bytesFieldSize is the size of a length-delimited field of n bytes (0: proto3 leaves an empty field out). */
export function bytesFieldSize(n: number): number {
  return n > 0 ? 1 + varintSize(BigInt(n)) + n : 0;
}

/**
 * putBytes writes a length-delimited field (nothing when empty) and returns the next offset; value
 * is bytes, or anything that copies itself (a ByteView, copied once, straight into out).
 */
export function putBytes(
  out: Uint8Array,
  o: number,
  field: number,
  value: Uint8Array | { length: number; copyTo(dst: Uint8Array, offset: number): number },
): number {
  const n = value.length;
  if (n === 0) return o;
  out[o++] = (field << 3) | 2;
  o = putVarint(out, o, BigInt(n));
  if (value instanceof Uint8Array) out.set(value, o);
  else value.copyTo(out, o);
  return o + n;
}

/** expireNanos is expiresAt (Unix ms, 0 = never) as int64 Unix nanoseconds, clamped to what int64 holds. */
export function expireNanos(expiresAt: number): bigint {
  return expiresAt > 0 ? BigInt(Math.round(Math.min(expiresAt, MAX_EXPIRES_AT))) * 1_000_000n : 0n;
}

/** expireMillis reads an int64 of Unix nanoseconds as Unix ms; zero or negative is 0 (never). */
export function expireMillis(varint: bigint): number {
  const ns = BigInt.asIntN(64, varint);
  return ns > 0n ? Number(ns / 1_000_000n) : 0;
}

/** utf8Field reads a string field as strict UTF-8; a RangeError names the field when it is not. */
export function utf8Field(bytes: Uint8Array, name: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new RangeError(`malformed protobuf: ${name} is not UTF-8`);
  }
}

/**
 * eachField walks buf's fields, giving each length-delimited field's bytes, each varint's value, or a fixed-width
 * field's 8 or 4 bytes; unknown fields are the visitor's to skip. A RangeError says what is malformed.
 */
export function eachField(
  buf: Uint8Array,
  visit: (field: number, bytes: Uint8Array | undefined, varint: bigint | undefined, fixed?: Uint8Array) => void,
): void {
  let o = 0;
  while (o < buf.length) {
    const [tag, o1] = readVarint(buf, o);
    o = o1;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw new RangeError("malformed protobuf: field number 0");
    if (wire === 0) {
      const [v, o2] = readVarint(buf, o);
      o = o2;
      visit(field, undefined, v);
    } else if (wire === 2) {
      const [len, o2] = readVarint(buf, o);
      if (len > BigInt(buf.length - o2)) throw new RangeError("malformed protobuf: length past the end");
      o = o2 + Number(len);
      visit(field, buf.subarray(o2, o), undefined);
    } else if (wire === 1 || wire === 5) {
      const start = o;
      o += wire === 1 ? 8 : 4;
      if (o > buf.length) throw new RangeError("malformed protobuf: truncated field");
      visit(field, undefined, undefined, buf.subarray(start, o));
    } else {
      throw new RangeError(`malformed protobuf: wire type ${wire}`);
    }
  }
}

/** readDouble reads a fixed64 field's 8 bytes as a little-endian double. */
export function readDouble(fixed: Uint8Array): number {
  return new DataView(fixed.buffer, fixed.byteOffset, 8).getFloat64(0, true);
}
