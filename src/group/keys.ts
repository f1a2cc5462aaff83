import { GeeCacheError } from "../core/errors.ts";
import { MAX_KEY_BYTES } from "../core/limits.ts";

/** MAX_KEY_LENGTH is MAX_KEY_BYTES under its former name: the longest key a group takes, in UTF-8 bytes. */
export const MAX_KEY_LENGTH = MAX_KEY_BYTES;

/** checkKey throws the error keyError finds, for the methods where misuse throws at once. */
export function checkKey(group: string, key: unknown): asserts key is string {
  const err = keyError(group, key);
  if (err) throw err;
}

/**
 * keyError says why key is not a valid key (INVALID_ARGUMENT or KEY_TOO_LONG), or undefined if it is; gets reject with
 * it rather than throw.
 */
export function keyError(group: string, key: unknown): GeeCacheError | undefined {
  if (typeof key !== "string")
    return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key must be a string, got ${typeof key}`);
  if (key === "") return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key is empty`);
  // A UTF-16 unit is at most 3 UTF-8 bytes, so only long keys need counting.
  if (key.length * 3 > MAX_KEY_BYTES) {
    const bytes = Buffer.byteLength(key);
    if (bytes > MAX_KEY_BYTES)
      return new GeeCacheError(
        "KEY_TOO_LONG",
        `group ${group}: key is ${bytes} bytes, over the limit of ${MAX_KEY_BYTES}`,
      );
  }
  return undefined;
}
