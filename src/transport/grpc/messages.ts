import { MAX_EXPIRES_AT, putVarint, readVarint, varintSize } from "../../core/protocol.ts";

/**
 * Protobuf codec of geecachepb's requests (proto/geecache.proto). Response{value=1, expire=3} is
 * core/protocol.ts's encodeResponse/decodeResponse, the same bytes as the HTTP peer answer.
 */

/** GrpcRequest is `Request { string group = 1; string key = 2; }` (Get and Remove). */
export interface GrpcRequest {
  group: string;
  key: string;
}

/**
 * GrpcSetRequest is `SetRequest { group = 1; key = 2; bytes value = 3; int64 expire = 4; }`, expire in Unix ns on the
 * wire, expiresAt in Unix ms here (0 = never).
 */
export interface GrpcSetRequest extends GrpcRequest {
  value: Uint8Array;
  expiresAt: number;
}

const utf8 = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** encodeRequest writes a Request message. */
export function encodeRequest(group: string, key: string): Uint8Array<ArrayBuffer> {
  const g = utf8.encode(group);
  const k = utf8.encode(key);
  const out = new Uint8Array(bytesFieldSize(g.length) + bytesFieldSize(k.length));
  putBytes(out, putBytes(out, 0, 1, g), 2, k);
  return out;
}

/** decodeRequest reads a Request message; a RangeError says what is malformed. */
export function decodeRequest(buf: Uint8Array): GrpcRequest {
  const out: GrpcRequest = { group: "", key: "" };
  eachField(buf, (field, bytes) => {
    if (field === 1 && bytes) out.group = text(bytes, "group");
    else if (field === 2 && bytes) out.key = text(bytes, "key");
  });
  return out;
}

/** encodeSetRequest writes a SetRequest message (expiresAt in Unix ms, 0 = never). */
export function encodeSetRequest(
  group: string,
  key: string,
  value: Uint8Array | { length: number; copyTo(dst: Uint8Array, offset: number): number },
  expiresAt: number,
): Uint8Array<ArrayBuffer> {
  const g = utf8.encode(group);
  const k = utf8.encode(key);
  const n = value.length;
  const expire = expiresAt > 0 ? BigInt(Math.round(Math.min(expiresAt, MAX_EXPIRES_AT))) * 1_000_000n : 0n;
  const out = new Uint8Array(
    bytesFieldSize(g.length) +
      bytesFieldSize(k.length) +
      (n > 0 ? bytesFieldSize(n) : 0) +
      (expire > 0n ? 1 + varintSize(expire) : 0),
  );
  let o = putBytes(out, putBytes(out, 0, 1, g), 2, k);
  if (n > 0) {
    out[o++] = (3 << 3) | 2;
    o = putVarint(out, o, BigInt(n));
    if (value instanceof Uint8Array) out.set(value, o);
    else value.copyTo(out, o);
    o += n;
  }
  if (expire > 0n) {
    out[o++] = 4 << 3;
    putVarint(out, o, expire);
  }
  return out;
}

/** decodeSetRequest reads a SetRequest message; a RangeError says what is malformed. */
export function decodeSetRequest(buf: Uint8Array): GrpcSetRequest {
  const out: GrpcSetRequest = { group: "", key: "", value: new Uint8Array(0), expiresAt: 0 };
  eachField(buf, (field, bytes, varint) => {
    if (field === 1 && bytes) out.group = text(bytes, "group");
    else if (field === 2 && bytes) out.key = text(bytes, "key");
    else if (field === 3 && bytes) out.value = bytes;
    else if (field === 4 && varint !== undefined) {
      const ns = BigInt.asIntN(64, varint);
      out.expiresAt = ns > 0n ? Number(ns / 1_000_000n) : 0;
    }
  });
  return out;
}

/** bytesFieldSize is the size of a length-delimited field of n bytes (0: proto3 leaves it out). */
export function bytesFieldSize(n: number): number {
  return n > 0 ? 1 + varintSize(BigInt(n)) + n : 0; // proto3 leaves empty fields out
}

/** putBytes writes a length-delimited field (nothing when empty) and returns the next offset. */
export function putBytes(out: Uint8Array, o: number, field: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return o;
  out[o++] = (field << 3) | 2;
  o = putVarint(out, o, BigInt(bytes.length));
  out.set(bytes, o);
  return o + bytes.length;
}

/** text reads a string field as strict UTF-8. */
export function text(bytes: Uint8Array, name: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new RangeError(`malformed protobuf: ${name} is not UTF-8`);
  }
}

/**
 * eachField walks buf's fields, giving each length-delimited field's bytes, each varint's value, or a fixed-width
 * field's 8 or 4 bytes; unknown fields are skipped.
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
