import type { Getter } from "../../src/group/loader.ts";

/** counting wraps a getter and records the keys it was called with. */
export function counting(getter: Getter): Getter & { keys: string[] } {
  const keys: string[] = [];
  const fn = ((key, ctx) => {
    keys.push(key);
    return getter(key, ctx);
  }) as Getter & { keys: string[] };
  fn.keys = keys;
  return fn;
}
