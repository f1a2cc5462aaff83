// RESP2 replies, each encoded once into the bytes the socket writes.

/** Reply is an encoded RESP2 reply. */
export type Reply = Buffer;

/** OK, PONG, NIL (a null bulk string), EMPTY_ARRAY, ZERO and ONE are the replies sent most often, made once. */
export const OK: Reply = Buffer.from("+OK\r\n");
export const PONG: Reply = Buffer.from("+PONG\r\n");
export const NIL: Reply = Buffer.from("$-1\r\n");
export const EMPTY_ARRAY: Reply = Buffer.from("*0\r\n");
export const ZERO: Reply = Buffer.from(":0\r\n");
export const ONE: Reply = Buffer.from(":1\r\n");

/** simple is a status reply: `+text`; text must not hold CR or LF. */
export function simple(text: string): Reply {
  return Buffer.from(`+${text}\r\n`);
}

/**
 * error is an error reply: `-ERR message`, or `-CODE message` when message starts with one of Redis's codes (NOAUTH,
 * WRONGPASS, NOPERM, DENIED, NOPROTO); line breaks in message become spaces, so it stays one line.
 */
export function error(message: string): Reply {
  const line = message.replace(/[\r\n]+/g, " ");
  return Buffer.from(CODED.test(line) ? `-${line}\r\n` : `-ERR ${line}\r\n`);
}

const CODED = /^(NOAUTH|WRONGPASS|NOPERM|DENIED|NOPROTO) /;

/** integer is `:n`. */
export function integer(n: number): Reply {
  return n === 0 ? ZERO : n === 1 ? ONE : Buffer.from(`:${n}\r\n`);
}

/** bulk is a bulk string of bytes or of a string's UTF-8, in one buffer: `$len`, the bytes, CRLF. */
export function bulk(value: Uint8Array | string): Reply {
  if (typeof value === "string") {
    const len = Buffer.byteLength(value);
    const head = `$${len}\r\n`;
    const out = Buffer.allocUnsafe(head.length + len + 2);
    out.write(head, 0, "latin1");
    out.write(value, head.length, "utf8");
    out[out.length - 2] = 13;
    out[out.length - 1] = 10;
    return out;
  }
  const head = `$${value.byteLength}\r\n`;
  const out = Buffer.allocUnsafe(head.length + value.byteLength + 2);
  out.write(head, 0, "latin1");
  out.set(value, head.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

/** Item is one element of an array reply: bytes or text as a bulk string, a number as an integer, null as nil. */
export type Item = Uint8Array | string | number | null | Item[];

/** array is an array reply of items (nested arrays allowed). */
export function array(items: readonly Item[]): Reply {
  const parts: Buffer[] = [Buffer.from(`*${items.length}\r\n`)];
  for (const item of items) parts.push(itemReply(item));
  return Buffer.concat(parts);
}

function itemReply(item: Item): Reply {
  if (item === null) return NIL;
  if (typeof item === "number") return integer(item);
  if (Array.isArray(item)) return array(item);
  return bulk(item);
}

/** isReply tells a reply from what else a function may answer (a target, a promise). */
export function isReply(x: unknown): x is Reply {
  return x instanceof Buffer;
}

/** POOL_BYTES is a ReplyBuffer's first size, and the most it keeps between reads. */
const POOL_BYTES = 64 * 1024;

/**
 * ReplyBuffer gathers the replies of one read in one growing buffer, written to the socket once. Its memory is reused
 * by the next read: whoever keeps bytes of take() past the write copies them.
 */
export class ReplyBuffer {
  #buf = Buffer.allocUnsafe(POOL_BYTES);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  /** push appends an encoded reply. */
  push(reply: Reply): void {
    this.#room(reply.length);
    this.#buf.set(reply, this.#len);
    this.#len += reply.length;
  }

  /** bulk appends value as a bulk string, without an intermediate buffer. */
  bulk(value: Uint8Array): void {
    const n = value.byteLength;
    this.#room(n + 16);
    const b = this.#buf;
    let i = this.#len;
    b[i++] = 36; // "$"
    if (n < 10) b[i++] = 48 + n;
    else i += b.write(String(n), i, "latin1");
    b[i++] = 13;
    b[i++] = 10;
    b.set(value, i);
    i += n;
    b[i++] = 13;
    b[i++] = 10;
    this.#len = i;
  }

  /** take returns the bytes gathered (valid until the next push) and empties the buffer, or undefined when empty. */
  take(): Buffer | undefined {
    if (this.#len === 0) return undefined;
    const out = this.#buf.subarray(0, this.#len);
    this.#len = 0;
    if (this.#buf.length > POOL_BYTES * 4) this.#buf = Buffer.allocUnsafe(POOL_BYTES); // one large reply: not kept
    return out;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}
