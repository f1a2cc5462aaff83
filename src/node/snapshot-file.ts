import { open, rename, rm } from "node:fs/promises";
import { ByteView } from "../core/byteview.ts";
import type { Registry } from "../group/registry.ts";

/** SNAPSHOT_MAGIC opens every snapshot file; SNAPSHOT_VERSION is the format this build writes and reads. */
export const SNAPSHOT_MAGIC = "GEECSNAP";
export const SNAPSHOT_VERSION = 2;

// Layout, little-endian: MAGIC (8 bytes), version u32, then records: a group (1, name length u16,
// name) or an entry of the last group (2, key length u32, key, value length u32, value, expiresAt
// f64, written f64) or the last group's W-TinyLFU counts (3, length u32, bytes: version 2 on);
// then the trailer (0xff, entry count f64, crc32 u32 of every byte before it).
const GROUP = 1;
const ENTRY = 2;
const SKETCH = 3;
const END = 0xff;
const HEADER = 12;
const TRAILER = 13;
const CHUNK = 1 << 20;
const encoder = new TextEncoder(); // bytes written at a time: the save streams, it never holds the whole file

/** SnapshotStats say what a save or a load moved and how long it took. */
export interface SnapshotStats {
  groups: number;
  entries: number;
  bytes: number;
  ms: number;
  /** skipped counts entries left out on load: expired, or of a group that no longer exists. */
  skipped: number;
}

/** Writer fills one chunk at a time and writes it out, keeping a running crc32 and byte count. */
class Writer {
  readonly #buf = new Uint8Array(CHUNK);
  readonly #dv = new DataView(this.#buf.buffer);
  #at = 0;
  crc = 0;
  bytes = 0;
  constructor(readonly write: (b: Uint8Array) => Promise<unknown>) {}

  /** fits tells whether n more bytes fit the chunk; when not, flush first. */
  fits(n: number): boolean {
    return this.#at + n <= CHUNK;
  }
  /** key writes a key's UTF-8 length and bytes in place (room for 4 + 3 x its length must be there). */
  key(key: string): void {
    const { written } = encoder.encodeInto(key, this.#buf.subarray(this.#at + 4));
    this.u32(written);
    this.#at += written;
  }
  /** bytes copies b into the chunk (it must fit). */
  bytesIn(b: Uint8Array): void {
    this.#buf.set(b, this.#at);
    this.#at += b.length;
  }
  async flush(): Promise<void> {
    if (this.#at === 0) return;
    const part = this.#buf.subarray(0, this.#at);
    this.crc = Bun.hash.crc32(part, this.crc);
    this.bytes += this.#at;
    this.#at = 0;
    await this.write(part);
  }
  u8(n: number): void {
    this.#buf[this.#at++] = n;
  }
  u16(n: number): void {
    this.#dv.setUint16(this.#at, n, true);
    this.#at += 2;
  }
  u32(n: number): void {
    this.#dv.setUint32(this.#at, n, true);
    this.#at += 4;
  }
  f64(n: number): void {
    this.#dv.setFloat64(this.#at, n, true);
    this.#at += 8;
  }
  async raw(b: Uint8Array): Promise<void> {
    if (b.length > CHUNK - this.#at) {
      await this.flush();
      if (b.length > CHUNK) {
        this.crc = Bun.hash.crc32(b, this.crc);
        this.bytes += b.length;
        await this.write(b);
        return;
      }
    }
    this.#buf.set(b, this.#at);
    this.#at += b.length;
  }
}

/**
 * saveSnapshot writes every group's main cache (key, value, expiry, write time), most valuable
 * first, to path: streamed through a temporary file that is synced and then renamed over path, so
 * a crash mid-save leaves the last snapshot whole.
 */
export async function saveSnapshot(path: string, registry: Registry): Promise<SnapshotStats> {
  const start = performance.now();
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  let entries = 0;
  try {
    const w = new Writer((b) => fh.write(b));
    await w.raw(encoder.encode(SNAPSHOT_MAGIC));
    w.u32(SNAPSHOT_VERSION);
    const groups = registry.groups();
    for (const g of groups) {
      const name = encoder.encode(g.name);
      if (!w.fits(3 + name.length)) await w.flush();
      w.u8(GROUP);
      w.u16(name.length);
      await w.raw(name);
      // One await per chunk, not per entry: a promise per field of 65,000 entries was 90 MiB of garbage.
      for (const key of g.ownKeys()) {
        const e = g.peek(key);
        if (!e || e.from !== "main") continue;
        const v = e.value.view();
        const head = 1 + 4 + 3 * key.length + 4;
        if (!w.fits(head)) await w.flush();
        w.u8(ENTRY);
        w.key(key);
        w.u32(v.length);
        if (w.fits(v.length + 16)) w.bytesIn(v);
        else await w.raw(v);
        if (!w.fits(16)) await w.flush();
        w.f64(e.expiresAt);
        w.f64(e.written ?? 0);
        entries++;
      }
      const sketch = g.admission?.save();
      if (sketch) {
        if (!w.fits(5)) await w.flush();
        w.u8(SKETCH);
        w.u32(sketch.length);
        await w.raw(sketch);
      }
    }
    await w.flush();
    const trailer = new Uint8Array(TRAILER);
    const dv = new DataView(trailer.buffer);
    trailer[0] = END;
    dv.setFloat64(1, entries, true);
    dv.setUint32(9, Bun.hash.crc32(trailer.subarray(0, 9), w.crc) >>> 0, true);
    await fh.write(trailer);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    return {
      groups: groups.length,
      entries,
      bytes: w.bytes + TRAILER,
      ms: Math.round(performance.now() - start),
      skipped: 0,
    };
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** SnapshotError says why a snapshot file cannot be loaded (the node then starts cold). */
export class SnapshotError extends Error {}

/**
 * loadSnapshot reads path into the registry's groups; a smaller budget keeps the most valuable
 * entries; expired entries, entries past a group's budget and groups that no longer exist are
 * skipped (warn names each such group once). It resolves undefined when there is no file, and
 * throws a SnapshotError, having loaded nothing, when the file is truncated, corrupt, foreign or of
 * a newer version.
 */
export async function loadSnapshot(
  path: string,
  registry: Registry,
  warn: (message: string) => void,
  now = Date.now(),
): Promise<SnapshotStats | undefined> {
  const start = performance.now();
  const file = Bun.file(path);
  if (!(await file.exists())) return undefined;
  const data = await file.bytes();
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dec = new TextDecoder("utf-8", { fatal: true });
  if (data.length < HEADER || dec.decode(data.subarray(0, 8)) !== SNAPSHOT_MAGIC)
    throw new SnapshotError("not a geecache snapshot");
  const version = dv.getUint32(8, true);
  if (version > SNAPSHOT_VERSION)
    throw new SnapshotError(`format version ${version} is newer than this build reads (${SNAPSHOT_VERSION})`);
  if (data.length < HEADER + TRAILER || data[data.length - TRAILER] !== END)
    throw new SnapshotError("truncated (no trailer)");
  const body = data.length - TRAILER;
  if (Bun.hash.crc32(data.subarray(0, body + 9)) >>> 0 !== dv.getUint32(body + 9, true))
    throw new SnapshotError("checksum mismatch (corrupt)");
  // Parse all of it before touching a cache: a file that does not parse loads nothing.
  const parsed: Array<{ group: string; key: string; at: number; len: number; expiresAt: number; written: number }> = [];
  const sketches = new Map<string, Uint8Array>();
  let group = "";
  let at = HEADER;
  const need = (n: number) => {
    if (at + n > body) throw new SnapshotError(`truncated record at byte ${at}`);
  };
  try {
    while (at < body) {
      need(1);
      const type = data[at++];
      if (type === GROUP) {
        need(2);
        const n = dv.getUint16(at, true);
        need(2 + n);
        group = dec.decode(data.subarray(at + 2, at + 2 + n));
        at += 2 + n;
      } else if (type === ENTRY && group !== "") {
        need(4);
        const kl = dv.getUint32(at, true);
        need(4 + kl + 4);
        const key = dec.decode(data.subarray(at + 4, at + 4 + kl));
        at += 4 + kl;
        const len = dv.getUint32(at, true);
        need(4 + len + 16);
        const valueAt = at + 4;
        at = valueAt + len;
        parsed.push({
          group,
          key,
          at: valueAt,
          len,
          expiresAt: dv.getFloat64(at, true),
          written: dv.getFloat64(at + 8, true),
        });
        at += 16;
      } else if (type === SKETCH && group !== "") {
        need(4);
        const len = dv.getUint32(at, true);
        need(4 + len);
        sketches.set(group, data.subarray(at + 4, at + 4 + len));
        at += 4 + len;
      } else throw new SnapshotError(`unknown record ${type} at byte ${at - 1}`);
    }
  } catch (err) {
    throw err instanceof SnapshotError ? err : new SnapshotError(`malformed: ${(err as Error).message}`);
  }
  if (parsed.length !== dv.getFloat64(body + 1, true)) throw new SnapshotError("entry count mismatch (corrupt)");
  const missing = new Set<string>();
  let entries = 0;
  let skipped = 0;
  let bytes = 0;
  const groups = new Set<string>();
  // The entries come most valuable first: take them in that order while each group's budget lasts,
  // then put them back least valuable first, so the most valuable are the most recent and nothing
  // is evicted (nor refused by admission) while loading.
  const room = new Map<string, number>();
  const taken: typeof parsed = [];
  for (const p of parsed) {
    const g = registry.get(p.group);
    const left = room.get(p.group) ?? g?.cacheBytes ?? 0;
    if (!g || (p.expiresAt !== 0 && p.expiresAt <= now) || p.len > left) {
      if (!g && !missing.has(p.group)) {
        missing.add(p.group);
        warn(`snapshot ${path}: group ${p.group} no longer exists; its entries are skipped`);
      }
      skipped++;
      continue;
    }
    room.set(p.group, left - p.len);
    taken.push(p);
  }
  for (let i = taken.length - 1; i >= 0; i--) {
    const p = taken[i]!;
    const g = registry.get(p.group)!;
    g.restore(p.key, ByteView.adopt(data.slice(p.at, p.at + p.len)), p.expiresAt, p.written);
    groups.add(p.group);
    entries++;
    bytes += p.len;
  }
  // The admission counts last: the entries have sized each group's sketch.
  for (const [name, sketch] of sketches) registry.get(name)?.admission?.load(sketch);
  return { groups: groups.size, entries, bytes, ms: Math.round(performance.now() - start), skipped };
}
