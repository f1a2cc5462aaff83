/**
 * The peer wire format: a protobuf message with the value in field 1 (bytes), the owner's request
 * rate of the key in field 2 (double, requests per second: groupcache's `minute_qps`) and the
 * expiry in field 3 (int64, Unix nanoseconds, 0 = none). It reads as GeeCache's
 * `Response{value=1}`, groupcache's `GetResponse{value=1, minute_qps=2}` and groupcache-go's
 * `GetResponse{value=1, expire=3}`; each ignores the fields it does not know.
 */

import {
  bytesFieldSize,
  eachField,
  expireMillis,
  expireNanos,
  putBytes,
  putVarint,
  readDouble,
  varintSize,
} from "./protobuf.ts";

/** PeerResponse is a decoded peer answer: the value and its expiry in Unix ms (0 = never). */
export interface PeerResponse {
  value: Uint8Array;
  expiresAt: number;
  /**
   * minuteQps is the owner's decayed request rate of the key (per second), when it sent one: what a non-owner's hot
   * cache goes by.
   */
  minuteQps?: number;
  /** generation is the answering node's purge number of the group (a header, not the protobuf wire), when above 0. */
  generation?: number;
  /**
   * boot identifies the answering process (not on the protobuf wire: a header or metadata); a new one means the peer
   * restarted.
   */
  boot?: string;
}

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
  // A library caller may pass any expiry; the wire holds int64 nanoseconds (up to the year 2262).
  const expire = expireNanos(expiresAt);
  const qps = minuteQps > 0 && minuteQps < Infinity; // proto3 leaves a zero double out
  const size = bytesFieldSize(value.length) + (qps ? 9 : 0) + (expire > 0n ? 1 + varintSize(expire) : 0);
  const out = new Uint8Array(size);
  let o = putBytes(out, 0, 1, value);
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
  let minuteQps = 0;
  eachField(buf, (field, bytes, varint, fixed) => {
    if (field === 1 && bytes) value = bytes;
    else if (field === 3 && varint !== undefined) expiresAt = expireMillis(varint);
    else if (field === 2 && fixed?.length === 8) minuteQps = readDouble(fixed);
  });
  const res: PeerResponse = { value, expiresAt };
  // A rate that is not a positive number (NaN, negative, a zero sent anyway) reads as none.
  if (minuteQps > 0) res.minuteQps = minuteQps;
  return res;
}
