/**
 * The batch peer route, `POST {basePath}_batch/{group}`: many keys in one request, each answered
 * locally (never forwarded). The body is the keys, each a varint length then its UTF-8 bytes. The
 * answer has one entry per key, in order: a varint status, a varint length, then for a 200 the
 * protobuf of a single get's answer (value = 1, minute_qps = 2, expire = 3), else the error's code, a space and
 * its one-line message. Go GeeCache and groupcache lack the route (404 or 405).
 */
import { type ErrorCode, errorMessage, GeeCacheError, httpStatus } from "../../core/errors.ts";
import { decodeResponse, encodeResponse, type PeerResponse } from "../../core/protocol.ts";
import type { Registry } from "../../group/registry.ts";
import { ERROR_CODE_HEADER, readBody, text } from "./responses.ts";

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

/** answerBatch answers a peer's batch request for group (percent-encoded) from registry, every key locally. */
export async function answerBatch(registry: Registry, req: Request, groupPart: string): Promise<Response> {
  let name: string;
  try {
    name = decodeURIComponent(groupPart);
  } catch {
    return coded(400, "INVALID_ARGUMENT", "malformed batch path: bad percent-encoding");
  }
  const group = registry.get(name);
  if (!group) return coded(404, "UNKNOWN_GROUP", `no such group: ${name}`);
  let keys: string[];
  try {
    keys = decodeKeys(await readBody(req, MAX_PEER_BATCH_BYTES));
  } catch (err) {
    if (err instanceof GeeCacheError) return coded(httpStatus(err), err.code, err.message);
    return coded(400, "INVALID_ARGUMENT", errorMessage(err));
  }
  const signal = req.signal;
  const answers = await Promise.all(
    keys.map((k) =>
      group
        .getLocal(k, { signal })
        .catch((err: unknown) =>
          err instanceof GeeCacheError ? err : new GeeCacheError("INTERNAL", errorMessage(err)),
        ),
    ),
  );
  return new Response(encodeAnswers(answers), { headers: { "content-type": BATCH_CONTENT_TYPE } });
}

function coded(status: number, code: ErrorCode, message: string): Response {
  return text(status, message, { [ERROR_CODE_HEADER]: code });
}

/** concat writes each part as a varint length and its bytes, after its status when statuses are given. */
function concat(parts: Uint8Array[], statuses?: number[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  parts.forEach((p, i) => (size += (statuses ? varintSize(statuses[i]!) : 0) + varintSize(p.length) + p.length));
  const out = new Uint8Array(size);
  let o = 0;
  parts.forEach((p, i) => {
    if (statuses) o = putVarint(out, o, statuses[i]!);
    o = putVarint(out, o, p.length);
    out.set(p, o);
    o += p.length;
  });
  return out;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function putVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) {
    out[o++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  return o;
}

/** varint reads a length of at most 2^35 at buf[o]: its value and the offset after it. */
function varint(buf: Uint8Array, o: number): [number, number] {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (o >= buf.length) throw new RangeError("malformed batch: truncated varint");
    const b = buf[o++]!;
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [n, o];
    scale *= 128;
  }
  throw new RangeError("malformed batch: varint too long");
}
