import {
  bytesFieldSize,
  eachField,
  expireMillis,
  expireNanos,
  putBytes,
  putVarint,
  utf8Field,
  varintSize,
} from "../../core/protobuf.ts";

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
    if (field === 1 && bytes) out.group = utf8Field(bytes, "group");
    else if (field === 2 && bytes) out.key = utf8Field(bytes, "key");
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
  const expire = expireNanos(expiresAt);
  const out = new Uint8Array(
    bytesFieldSize(g.length) +
      bytesFieldSize(k.length) +
      bytesFieldSize(value.length) +
      (expire > 0n ? 1 + varintSize(expire) : 0),
  );
  const o = putBytes(out, putBytes(out, putBytes(out, 0, 1, g), 2, k), 3, value);
  if (expire > 0n) {
    out[o] = 4 << 3;
    putVarint(out, o + 1, expire);
  }
  return out;
}

/** decodeSetRequest reads a SetRequest message; a RangeError says what is malformed. */
export function decodeSetRequest(buf: Uint8Array): GrpcSetRequest {
  const out: GrpcSetRequest = { group: "", key: "", value: new Uint8Array(0), expiresAt: 0 };
  eachField(buf, (field, bytes, varint) => {
    if (field === 1 && bytes) out.group = utf8Field(bytes, "group");
    else if (field === 2 && bytes) out.key = utf8Field(bytes, "key");
    else if (field === 3 && bytes) out.value = bytes;
    else if (field === 4 && varint !== undefined) out.expiresAt = expireMillis(varint);
  });
  return out;
}

/** encodePurgeRequest writes a PurgeRequest message: the group and its purge number. */
export function encodePurgeRequest(group: string, generation: number): Uint8Array<ArrayBuffer> {
  const g = utf8.encode(group);
  const n = BigInt(generation);
  const out = new Uint8Array(bytesFieldSize(g.length) + 1 + varintSize(n));
  let o = putBytes(out, 0, 1, g);
  out[o++] = (2 << 3) | 0;
  putVarint(out, o, n);
  return out;
}

/** decodePurgeRequest reads a PurgeRequest message; a RangeError says what is malformed. */
export function decodePurgeRequest(buf: Uint8Array): { group: string; generation: number } {
  const out = { group: "", generation: 0 };
  eachField(buf, (field, bytes, varint) => {
    if (field === 1 && bytes) out.group = utf8Field(bytes, "group");
    else if (field === 2 && varint !== undefined) out.generation = Number(varint);
  });
  return out;
}
