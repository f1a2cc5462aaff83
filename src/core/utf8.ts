/** utf8Length returns the UTF-8 byte length of s without encoding it. */
export function utf8Length(s: string): number {
  const len = s.length;
  let n = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else {
      n += 2;
      // A surrogate pair is 2 code units and 4 bytes; a lone surrogate encodes as U+FFFD, 3 bytes.
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) i++;
      }
    }
  }
  return n;
}
