/**
 * The peer wire format: a protobuf message with the value in field 1 (bytes), the owner's request
 * rate of the key in field 2 (double, requests per second: groupcache's `minute_qps`) and the
 * expiry in field 3 (int64, Unix nanoseconds, 0 = none). It reads as GeeCache's
 * `Response{value=1}`, groupcache's `GetResponse{value=1, minute_qps=2}` and groupcache-go's
 * `GetResponse{value=1, expire=3}`; each ignores the fields it does not know.
 */

/** PeerResponse is a decoded peer answer: the value and its expiry in Unix ms (0 = never). */
export interface PeerResponse {
  value: Uint8Array;
  expiresAt: number;
  /**
   * minuteQps is the owner's decayed request rate of the key (per second), when it sent one: what a non-owner's hot
   * cache goes by.
   */
  minuteQps?: number;
  /**
   * boot identifies the answering process (not on the protobuf wire: a header or metadata); a new one means the peer
   * restarted.
   */
  boot?: string;
}

/** MAX_EXPIRES_AT is the latest expiry (Unix ms) that field 3 can carry as int64 nanoseconds. */
export const MAX_EXPIRES_AT = 9_223_372_036_854;

const TAG_VALUE = (1 << 3) | 2; // field 1, length-delimited
const TAG_QPS = (2 << 3) | 1; // field 2, 64-bit
const TAG_EXPIRE = (3 << 3) | 0; // field 3, varint

/**
 * encodeResponse writes value (and expiresAt in Unix ms, when non-zero; minuteQps, when above
 * zero and finite) as a protobuf message, fields in number order.
 */
export function encodeResponse(
  value: { length: number; copyTo(dst: Uint8Array, offset: number): number } | Uint8Array,
  expiresAt = 0,
  minuteQps = 0,
): Uint8Array<ArrayBuffer> {
  const n = value.length;
  // A library caller may pass any expiry; the wire holds int64 nanoseconds (up to the year 2262).
  const expire = expiresAt > 0 ? BigInt(Math.round(Math.min(expiresAt, MAX_EXPIRES_AT))) * 1_000_000n : 0n;
  const qps = minuteQps > 0 && minuteQps < Infinity; // proto3 leaves a zero double out
  const size = (n > 0 ? 1 + varintSize(BigInt(n)) + n : 0) + (qps ? 9 : 0) + (expire > 0n ? 1 + varintSize(expire) : 0);
  const out = new Uint8Array(size);
  let o = 0;
  if (n > 0) {
    out[o++] = TAG_VALUE;
    o = putVarint(out, o, BigInt(n));
    if (value instanceof Uint8Array) out.set(value, o);
    else value.copyTo(out, o);
    o += n;
  }
  if (qps) {
    out[o++] = TAG_QPS;
    new DataView(out.buffer).setFloat64(o, minuteQps, true);
    o += 8;
  }
  if (expire > 0n) {
    out[o++] = TAG_EXPIRE;
    o = putVarint(out, o, expire);
  }
  return out;
}

/** decodeResponse parses a peer's body; it throws a RangeError that says what is malformed. */
export function decodeResponse(buf: Uint8Array): PeerResponse {
  let value: Uint8Array = new Uint8Array(0);
  let expiresAt = 0;
  let minuteQps: number | undefined;
  let o = 0;
  while (o < buf.length) {
    const [key, o1] = readVarint(buf, o);
    o = o1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new RangeError("malformed protobuf: field number 0");
    switch (wire) {
      case 0: {
        const [v, o2] = readVarint(buf, o);
        o = o2;
        if (field === 3) expiresAt = v > 0n ? Number(BigInt.asIntN(64, v) / 1_000_000n) : 0;
        break;
      }
      case 1:
        if (field === 2 && o + 8 <= buf.length)
          minuteQps = new DataView(buf.buffer, buf.byteOffset + o, 8).getFloat64(0, true);
        o += 8;
        break;
      case 2: {
        const [len, o2] = readVarint(buf, o);
        if (len > BigInt(buf.length - o2)) throw new RangeError("malformed protobuf: length past the end");
        o = o2 + Number(len);
        if (field === 1) value = buf.subarray(o2, o);
        break;
      }
      case 5:
        o += 4;
        break;
      default:
        throw new RangeError(`malformed protobuf: wire type ${wire}`);
    }
    if (o > buf.length) throw new RangeError("malformed protobuf: truncated field");
  }
  const res: PeerResponse = { value, expiresAt: Math.max(0, expiresAt) };
  // A rate that is not a positive number (NaN, negative, a zero sent anyway) reads as none.
  if (minuteQps !== undefined && minuteQps > 0) res.minuteQps = minuteQps;
  return res;
}

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
