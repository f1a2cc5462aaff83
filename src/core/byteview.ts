const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * ByteView is an immutable view of a cached value. Bytes are copied in on construction and out
 * by `bytes()`, so no caller can change what the cache holds; `slice` shares storage safely.
 */
export class ByteView {
  readonly #b: Uint8Array;

  private constructor(b: Uint8Array) {
    this.#b = b;
  }

  /** ByteView.from copies a Uint8Array or UTF-8 encodes a string; a ByteView is returned as is. */
  static from(value: Uint8Array | string | ByteView): ByteView {
    if (value instanceof ByteView) return value;
    if (typeof value === "string") return new ByteView(encoder.encode(value));
    if (value instanceof Uint8Array) return new ByteView(value.slice());
    throw new TypeError(`ByteView.from expects a Uint8Array, string or ByteView, got ${describe(value)}`);
  }

  /** ByteView.adopt wraps bytes without copying; the caller promises never to touch them again. */
  static adopt(bytes: Uint8Array): ByteView {
    return new ByteView(bytes);
  }

  /** length is the value's size in bytes. */
  get length(): number {
    return this.#b.byteLength;
  }

  /** bytes returns a fresh copy of the value. */
  bytes(): Uint8Array {
    return this.#b.slice();
  }

  /** at returns the byte at index i (undefined out of range). */
  at(i: number): number | undefined {
    return this.#b[i];
  }

  /** copyTo writes the value into dst at offset and returns the number of bytes written. */
  copyTo(dst: Uint8Array, offset = 0): number {
    dst.set(this.#b, offset);
    return this.#b.byteLength;
  }

  /** toString decodes the value as UTF-8. */
  toString(): string {
    return decoder.decode(this.#b);
  }

  /** slice returns a view of bytes [start, end) that shares storage (both are immutable). */
  slice(start?: number, end?: number): ByteView {
    return new ByteView(this.#b.subarray(start, end));
  }

  /** equals compares the bytes of two values (a string or Uint8Array is compared as bytes). */
  equals(other: ByteView | Uint8Array | string): boolean {
    const o = other instanceof ByteView ? other.#b : typeof other === "string" ? encoder.encode(other) : other;
    const a = this.#b;
    if (a.byteLength !== o.byteLength) return false;
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== o[i]) return false;
    return true;
  }

  /**
   * view returns the value's own bytes without a copy, for an API that copies them at once (as
   * `new Response(view)` does in Bun). The caller must never change them or keep them.
   */
  view(): Uint8Array<ArrayBuffer> {
    return this.#b as Uint8Array<ArrayBuffer>;
  }

  /** blob returns a new Blob of the value (a copy: a cached value keeps no second one; servers answer with view()). */
  blob(): Blob {
    return new Blob([this.#b as Uint8Array<ArrayBuffer>]);
  }
}

function describe(v: unknown): string {
  return v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v;
}
