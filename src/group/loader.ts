import { ByteView } from "../core/byteview.ts";
import { errorMessage, GeeCacheError } from "../core/errors.ts";
import { Entry } from "./caches.ts";

/** LoadContext is what a loader is told besides the key. */
export interface LoadContext {
  readonly group: string;
}

/** LoadedValue is a loader's answer: the value alone, or with a TTL in ms or an absolute expiry in Unix ms. */
export type LoadedValue =
  | Uint8Array
  | string
  | ByteView
  | { value: Uint8Array | string | ByteView; ttl?: number; expiresAt?: number };

/**
 * Getter loads a key on a miss; it returns (or resolves) undefined, or throws `notFound()`, when the key does not
 * exist.
 */
export type Getter = (
  key: string,
  ctx: LoadContext,
) => LoadedValue | undefined | null | Promise<LoadedValue | undefined | null>;

/**
 * entryOf turns what group's loader returned for key into an Entry, its expiry worked out by
 * `expiry(ttl, expiresAt)`; an answer of the wrong shape is a LOAD_FAILED GeeCacheError.
 */
export function entryOf(
  group: string,
  key: string,
  loaded: LoadedValue,
  expiry: (ttl: number | undefined, expiresAt: number | undefined) => number,
): Entry {
  if (typeof loaded === "string" || loaded instanceof Uint8Array || loaded instanceof ByteView) {
    return new Entry(ByteView.from(loaded), expiry(undefined, undefined));
  }
  if (typeof loaded === "object" && "value" in loaded) {
    try {
      return new Entry(ByteView.from(loaded.value), expiry(loaded.ttl, loaded.expiresAt));
    } catch (err) {
      throw new GeeCacheError(
        "LOAD_FAILED",
        `group ${group}: loader returned a bad value for ${JSON.stringify(key)}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }
  throw new GeeCacheError(
    "LOAD_FAILED",
    `group ${group}: loader returned ${typeof loaded} for ${JSON.stringify(key)}; expected a string, Uint8Array, ByteView or { value }`,
  );
}

/**
 * load calls group's getter for key: a throw becomes a LOAD_FAILED GeeCacheError (a GeeCacheError
 * passes as it is), no value a NOT_FOUND one; failed() is called before either is thrown.
 */
export async function load(group: string, getter: Getter, key: string, failed: () => void): Promise<LoadedValue> {
  let loaded: LoadedValue | undefined | null;
  try {
    loaded = await getter(key, { group });
  } catch (err) {
    failed();
    if (err instanceof GeeCacheError) throw err;
    throw new GeeCacheError(
      "LOAD_FAILED",
      `group ${group}: loading ${JSON.stringify(key)} failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (loaded === undefined || loaded === null) {
    failed();
    throw new GeeCacheError("NOT_FOUND", `key ${JSON.stringify(key)} not found in group ${group}`);
  }
  return loaded;
}
