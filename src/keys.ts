import { GeeCacheError } from "./errors.ts";

/** MAX_KEY_LENGTH bounds keys (in UTF-16 units) so a key always fits a URL and a log line. */
export const MAX_KEY_LENGTH = 64 * 1024;

/** checkKey throws the error keyError finds, for the methods where misuse throws at once. */
export function checkKey(group: string, key: unknown): asserts key is string {
  const err = keyError(group, key);
  if (err) throw err;
}

/** keyError says why key is not a valid key (INVALID_ARGUMENT or TOO_LARGE), or undefined if it is; gets reject with it rather than throw. */
export function keyError(group: string, key: unknown): GeeCacheError | undefined {
  if (typeof key !== "string") return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key must be a string, got ${typeof key}`);
  if (key === "") return new GeeCacheError("INVALID_ARGUMENT", `group ${group}: key is empty`);
  if (key.length > MAX_KEY_LENGTH) return new GeeCacheError("TOO_LARGE", `group ${group}: key is ${key.length} characters, over the limit of ${MAX_KEY_LENGTH}`);
  return undefined;
}
