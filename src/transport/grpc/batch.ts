/**
 * GetMany, geecache's batch read between peers (proto/geecache.proto):
 *   GetManyRequest  { string group = 1; repeated string keys = 2; }
 *   GetManyResponse { repeated Entry entries = 1; }  one per key, in order
 *   Entry           { int32 status = 1; bytes value = 2; int64 expire = 3; string message = 4; double minute_qps = 5; }
 * status is a gRPC status code (0 = the value; 5 = no such key; else the error, message saying why).
 */
import { GeeCacheError } from "../../core/errors.ts";
import {
  bytesFieldSize,
  eachField,
  expireMillis,
  expireNanos,
  putBytes,
  putVarint,
  readDouble,
  utf8Field,
  varintSize,
} from "../../core/protobuf.ts";
import type { PeerResponse } from "../../core/protocol.ts";
import { errorFromStatus, grpcStatusOf } from "./status.ts";

const utf8 = new TextEncoder();

/** encodeGetManyRequest writes a GetManyRequest. */
export function encodeGetManyRequest(group: string, keys: readonly string[]): Uint8Array<ArrayBuffer> {
  const g = utf8.encode(group);
  const ks = keys.map((k) => utf8.encode(k));
  const out = new Uint8Array(
    bytesFieldSize(g.length) + ks.reduce((n, k) => n + 1 + varintSize(BigInt(k.length)) + k.length, 0),
  );
  let o = putBytes(out, 0, 1, g);
  for (const k of ks) {
    out[o++] = (2 << 3) | 2; // a repeated string keeps empty entries
    o = putVarint(out, o, BigInt(k.length));
    out.set(k, o);
    o += k.length;
  }
  return out;
}

/** decodeGetManyRequest reads a GetManyRequest; a RangeError says what is malformed. */
export function decodeGetManyRequest(buf: Uint8Array): { group: string; keys: string[] } {
  const out = { group: "", keys: [] as string[] };
  eachField(buf, (field, bytes) => {
    if (field === 1 && bytes) out.group = utf8Field(bytes, "group");
    else if (field === 2 && bytes) out.keys.push(utf8Field(bytes, "key"));
  });
  return out;
}

/** GetManyAnswer is one key's answer on the server side: its value, or its error. */
export type GetManyAnswer =
  | {
      value: { length: number; copyTo(dst: Uint8Array, offset: number): number } | Uint8Array;
      expiresAt: number;
      minuteQps?: number;
    }
  | GeeCacheError;

/** encodeGetManyResponse writes one Entry per answer, in order. */
export function encodeGetManyResponse(answers: readonly GetManyAnswer[]): Uint8Array<ArrayBuffer> {
  const entries = answers.map((a) => {
    if (a instanceof GeeCacheError) {
      const status = grpcStatusOf(a);
      const m = utf8.encode(a.message.split("\n", 1)[0]!);
      const e = new Uint8Array(1 + varintSize(BigInt(status)) + bytesFieldSize(m.length));
      e[0] = 1 << 3; // status, a varint
      putBytes(e, putVarint(e, 1, BigInt(status)), 4, m);
      return e;
    }
    const expire = expireNanos(a.expiresAt);
    const qps = a.minuteQps !== undefined && a.minuteQps > 0 && a.minuteQps < Infinity;
    const e = new Uint8Array(
      bytesFieldSize(a.value.length) + (expire > 0n ? 1 + varintSize(expire) : 0) + (qps ? 9 : 0),
    );
    let o = putBytes(e, 0, 2, a.value);
    if (expire > 0n) {
      e[o++] = 3 << 3;
      o = putVarint(e, o, expire);
    }
    if (qps) {
      e[o++] = (5 << 3) | 1; // minute_qps, a little-endian double
      new DataView(e.buffer).setFloat64(o, a.minuteQps!, true);
    }
    return e;
  });
  const out = new Uint8Array(entries.reduce((n, e) => n + 1 + varintSize(BigInt(e.length)) + e.length, 0));
  let o = 0;
  for (const e of entries) {
    out[o++] = (1 << 3) | 2; // an empty Entry (an empty value) is still one entry
    o = putVarint(out, o, BigInt(e.length));
    out.set(e, o);
    o += e.length;
  }
  return out;
}

/**
 * decodeGetManyResponse reads the answer for keys: each key's PeerResponse or its error (NOT_FOUND, LOAD_FAILED or
 * PEER_FAILED).
 */
export function decodeGetManyResponse(
  buf: Uint8Array,
  keys: readonly string[],
  peer: string,
): Map<string, PeerResponse | GeeCacheError> {
  const entries: Array<PeerResponse | GeeCacheError> = [];
  eachField(buf, (field, bytes) => {
    if (field !== 1 || !bytes) return;
    let status = 0;
    let message = "";
    const res: PeerResponse = { value: new Uint8Array(0), expiresAt: 0 };
    eachField(bytes, (f, b, v, fixed) => {
      if (f === 1 && v !== undefined) status = Number(BigInt.asIntN(32, v));
      else if (f === 5 && fixed?.length === 8) {
        const qps = readDouble(fixed);
        if (qps > 0) res.minuteQps = qps;
      } else if (f === 2 && b) res.value = b;
      else if (f === 3 && v !== undefined) res.expiresAt = expireMillis(v);
      else if (f === 4 && b) message = utf8Field(b, "message");
    });
    entries.push(status === 0 ? res : errorFromStatus(status, message, peer));
  });
  if (entries.length !== keys.length)
    throw new RangeError(`malformed GetManyResponse: ${entries.length} entries for ${keys.length} keys`);
  return new Map(keys.map((k, i) => [k, entries[i]!]));
}
