// RESP2 requests: arrays of bulk strings (what every client sends) and inline commands (a line of
// words, as typed into telnet or fed to redis-cli --pipe), parsed incrementally across reads.

/** MAX_INLINE_BYTES bounds an inline command's line, as Redis does (64 KiB). */
export const MAX_INLINE_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;

/** RespProtocolError is a malformed frame: the server answers its message as one -ERR line and closes. */
export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
}

const INCOMPLETE = -1;

/**
 * RespParser turns the bytes of one connection into commands, each a list of arguments (Buffers
 * that share the read's memory: valid until the next feed, so a caller copies what it keeps). A
 * frame split over reads is completed by the next ones; maxFrameBytes bounds what one frame may
 * buffer, so a client cannot make the server hold more.
 */
export class RespParser {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = []; // bytes of an incomplete frame, not yet joined
  #held = 0; // bytes in #chunks
  #need = 0; // bytes the incomplete frame needs at least before it is worth parsing again

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** pending is how many bytes of an incomplete frame are held. */
  get pending(): number {
    return this.#held;
  }

  /**
   * feed parses chunk after what was held and calls onCommand for each complete command, in order; it stops early
   * when onCommand returns false (QUIT). It throws RespProtocolError on a malformed frame, after the commands before
   * it. It returns how many commands it found.
   */
  feed(chunk: Buffer, onCommand: (args: Buffer[]) => boolean): number {
    let buf: Buffer;
    if (this.#held === 0) buf = chunk;
    else {
      this.#chunks.push(chunk);
      this.#held += chunk.length;
      if (this.#held < this.#need) {
        if (this.#held > this.#maxFrameBytes) throw new RespProtocolError("Protocol error: frame too large");
        return 0;
      }
      buf = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#held);
      this.#chunks = [];
      this.#held = 0;
    }
    let pos = 0;
    let found = 0;
    const args: Buffer[] = [];
    while (pos < buf.length) {
      args.length = 0;
      const end = buf[pos] === STAR ? this.#multibulk(buf, pos, args) : this.#inline(buf, pos, args);
      if (end === INCOMPLETE) break;
      pos = end;
      if (args.length === 0) continue; // an empty line or *0: nothing to answer, as in Redis
      found++;
      if (!onCommand(args.slice())) return found;
    }
    if (pos < buf.length) {
      const rest = buf.length - pos;
      if (rest > this.#maxFrameBytes) throw new RespProtocolError("Protocol error: frame too large");
      // A copy: the read's buffer may be reused once this returns.
      this.#chunks = [Buffer.from(buf.subarray(pos))];
      this.#held = rest;
    } else this.#need = 0;
    return found;
  }

  /** #line finds the CRLF that ends the line starting at pos: the index of its CR, or INCOMPLETE. */
  #line(buf: Buffer, pos: number, max: number): number {
    const cr = buf.indexOf(CR, pos);
    if (cr === -1 || cr + 1 >= buf.length) {
      if (buf.length - pos > max) throw new RespProtocolError("Protocol error: invalid multibulk length");
      this.#need = 0; // a short line: parsed again with the next read
      return INCOMPLETE;
    }
    if (buf[cr + 1] !== LF) throw new RespProtocolError("Protocol error: expected CRLF");
    return cr;
  }

  /** #number reads the decimal integer of buf[start, end), or NaN. */
  #number(buf: Buffer, start: number, end: number): number {
    if (end === start || end - start > 12) return Number.NaN;
    let n = 0;
    let i = start;
    const negative = buf[i] === 45;
    if (negative) i++;
    if (i === end) return Number.NaN;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) return Number.NaN;
      n = n * 10 + d;
    }
    return negative ? -n : n;
  }

  #multibulk(buf: Buffer, start: number, args: Buffer[]): number {
    const cr = this.#line(buf, start, 32);
    if (cr === INCOMPLETE) return INCOMPLETE;
    const count = this.#number(buf, start + 1, cr);
    if (Number.isNaN(count) || count > 1024 * 1024)
      throw new RespProtocolError("Protocol error: invalid multibulk length");
    let pos = cr + 2;
    for (let i = 0; i < count; i++) {
      if (pos >= buf.length) return this.#incomplete(start, pos + 1);
      if (buf[pos] !== DOLLAR)
        throw new RespProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buf[pos]!)}'`);
      const lineEnd = this.#line(buf, pos, 32);
      if (lineEnd === INCOMPLETE) return this.#incomplete(start, buf.length + 1);
      const len = this.#number(buf, pos + 1, lineEnd);
      if (Number.isNaN(len) || len < 0 || len > this.#maxFrameBytes)
        throw new RespProtocolError("Protocol error: invalid bulk length");
      const from = lineEnd + 2;
      const to = from + len;
      if (to + 2 > buf.length) return this.#incomplete(start, to + 2);
      if (buf[to] !== CR || buf[to + 1] !== LF) throw new RespProtocolError("Protocol error: expected CRLF after bulk");
      args.push(buf.subarray(from, to));
      pos = to + 2;
    }
    return pos;
  }

  /** #incomplete notes that the frame starting at start needs `until` bytes of buf at least (relative to it). */
  #incomplete(start: number, until: number): number {
    if (until - start > this.#maxFrameBytes) throw new RespProtocolError("Protocol error: frame too large");
    this.#need = until - start;
    return INCOMPLETE;
  }

  #inline(buf: Buffer, start: number, args: Buffer[]): number {
    const lf = buf.indexOf(LF, start);
    if (lf === -1) {
      if (buf.length - start > MAX_INLINE_BYTES) throw new RespProtocolError("Protocol error: too big inline request");
      this.#need = buf.length - start + 1;
      return INCOMPLETE;
    }
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    let i = start;
    while (i < end) {
      while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
      if (i === end) break;
      let j = i;
      while (j < end && buf[j] !== 32 && buf[j] !== 9) j++;
      args.push(buf.subarray(i, j));
      i = j;
    }
    return lf + 1;
  }
}
