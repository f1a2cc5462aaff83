/**
 * The batch peer route, `POST {basePath}_batch/{group}`: many keys in one request, each answered
 * locally (never forwarded). The body is the keys, each a varint length then its UTF-8 bytes. The
 * answer has one entry per key, in order: a varint status, a varint length, then for a 200 the
 * protobuf of a single get's answer (value = 1, minute_qps = 2, expire = 3), else the error's code, a space and
 * its one-line message. Go GeeCache and groupcache lack the route (404 or 405).
 */
import type { PeerService } from "../../cluster/peer-service.ts";
import { type ErrorCode, errorMessage, GeeCacheError, httpStatus } from "../../core/errors.ts";
import { putVarint, readVarint, varintSize } from "../../core/protobuf.ts";
import { decodeResponse, encodeResponse, type PeerResponse } from "../../core/protocol.ts";
import { coded, readBody } from "../../core/responses.ts";

/** BATCH_SEGMENT follows the base path in the batch route (a POST, so never taken for a group's GET route). */
export const BATCH_SEGMENT = "_batch";

/** BATCH_CONTENT_TYPE marks batch request and answer bodies. */
export const BATCH_CONTENT_TYPE = "application/x-geecache-batch";

/** MAX_PEER_BATCH_BYTES bounds the body of a batch request a node accepts from a peer: 16 MiB of keys. */
export const MAX_PEER_BATCH_BYTES = 16 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** encodeKeys writes keys as the body of a batch request. */
export function encodeKeys(keys: readonly string[]): Uint8Array<ArrayBuffer> {
  return concat(keys.map((k) => encoder.encode(k)));
}

/** decodeKeys reads the body of a batch request; a RangeError says what is malformed. */
export function decodeKeys(body: Uint8Array): string[] {
  const keys: string[] = [];
  for (let o = 0; o < body.length; ) {
    const [len, start] = varint(body, o);
    if (start + len > body.length) throw new RangeError("malformed batch: key past the end");
    try {
      keys.push(decoder.decode(body.subarray(start, start + len)));
    } catch {
      throw new RangeError("malformed batch: a key is not UTF-8");
    }
    o = start + len;
  }
  return keys;
}

/** BatchValue is a value to answer with: bytes, or a ByteView (copied once, into the answer). */
export type BatchValue = { value: Parameters<typeof encodeResponse>[0]; expiresAt: number; minuteQps?: number };

/** encodeAnswers writes one entry per key: a status, and the answer's protobuf or its error's code and message. */
export function encodeAnswers(answers: readonly (BatchValue | GeeCacheError)[]): Uint8Array<ArrayBuffer> {
  const statuses: number[] = [];
  const parts = answers.map((a) => {
    if (a instanceof GeeCacheError) {
      statuses.push(httpStatus(a));
      return encoder.encode(`${a.code} ${a.message.split("\n", 1)[0]}`);
    }
    statuses.push(200);
    return encodeResponse(a.value, a.expiresAt, a.minuteQps);
  });
  return concat(parts, statuses);
}

/** decodeAnswers reads a batch answer for keys: each key's PeerResponse, or its NOT_FOUND (else PEER_FAILED) error. */
export function decodeAnswers(
  body: Uint8Array,
  keys: readonly string[],
  peer: string,
): Map<string, PeerResponse | GeeCacheError> {
  const out = new Map<string, PeerResponse | GeeCacheError>();
  let o = 0;
  for (const key of keys) {
    if (o >= body.length) throw new RangeError(`malformed batch answer: ${out.size} entries for ${keys.length} keys`);
    const [status, o1] = varint(body, o);
    const [len, start] = varint(body, o1);
    if (start + len > body.length) throw new RangeError("malformed batch answer: entry past the end");
    const payload = body.subarray(start, start + len);
    o = start + len;
    if (status === 200) {
      out.set(key, decodeResponse(payload));
      continue;
    }
    const line = new TextDecoder().decode(payload);
    const space = line.indexOf(" ");
    const code = (space < 0 ? line : line.slice(0, space)) as ErrorCode;
    const message = space < 0 ? "" : line.slice(space + 1);
    // As on a single GET, only "no such key" is an answer; any other failure makes the asker load itself.
    out.set(
      key,
      code === "NOT_FOUND"
        ? new GeeCacheError("NOT_FOUND", message)
        : new GeeCacheError("PEER_FAILED", `peer ${peer} answered ${status} for ${JSON.stringify(key)}: ${message}`),
    );
  }
  return out;
}

/** answerBatch answers a peer's batch request for group (percent-encoded) through service, every key locally. */
export async function answerBatch(service: PeerService, req: Request, groupPart: string): Promise<Response> {
  let name: string;
  try {
    name = decodeURIComponent(groupPart);
  } catch {
    return coded(new GeeCacheError("INVALID_ARGUMENT", "malformed batch path: bad percent-encoding"));
  }
  let keys: string[];
  try {
    service.group(name); // an unknown group is refused before its body is read
    keys = decodeKeys(await readBody(req, MAX_PEER_BATCH_BYTES));
  } catch (err) {
    return coded(err instanceof GeeCacheError ? err : new GeeCacheError("INVALID_ARGUMENT", errorMessage(err)));
  }
  try {
    // The request is the read context: its signal is made only if some key misses.
    const answers = await service.getMany(name, keys, req);
    return new Response(encodeAnswers(answers), { headers: BATCH_HEADERS });
  } catch (err) {
    return coded(err);
  }
}

const BATCH_HEADERS = { "content-type": BATCH_CONTENT_TYPE };

/** concat writes each part as a varint length and its bytes, after its status when statuses are given. */
function concat(parts: Uint8Array[], statuses?: number[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  parts.forEach(
    (p, i) => (size += (statuses ? varintSize(BigInt(statuses[i]!)) : 0) + varintSize(BigInt(p.length)) + p.length),
  );
  const out = new Uint8Array(size);
  let o = 0;
  parts.forEach((p, i) => {
    if (statuses) o = putVarint(out, o, BigInt(statuses[i]!));
    o = putVarint(out, o, BigInt(p.length));
    out.set(p, o);
    o += p.length;
  });
  return out;
}

/** varint reads a length at buf[o]: its value and the offset after it (a RangeError when malformed). */
function varint(buf: Uint8Array, o: number): [number, number] {
  const [n, next] = readVarint(buf, o);
  return [Number(n), next];
}
