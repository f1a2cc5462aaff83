/** valueBytes turns a SQL column into the value a user expects: text as is, numbers as decimal text, blobs as bytes. */
export function valueBytes(v: unknown): Uint8Array | string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return v; // SQLite BLOB, PostgreSQL bytea (a Buffer)
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  if (v instanceof Date) return v.toISOString();
  // PostgreSQL int4[] and float4[] arrive as typed arrays, which JSON.stringify would turn into objects.
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return `[${Array.from(v as unknown as ArrayLike<number>).join(",")}]`;
  return JSON.stringify(v);
}
