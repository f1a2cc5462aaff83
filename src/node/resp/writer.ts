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
