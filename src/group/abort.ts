import { GeeCacheError } from "../core/errors.ts";

/**
 * withSignal runs start and settles with its result, or rejects with an ABORTED GeeCacheError as
 * soon as signal fires; the work itself goes on, since other callers may share it.
 */
export function withSignal<T>(start: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return start();
  // start is called only when the signal has not fired: a load begun for an already aborted caller
  // would have nobody to hand its rejection to (an unhandled rejection ends the process).
  if (signal.aborted) return Promise.reject(abortError(signal));
  const p = start();
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const onAbort = () => reject(abortError(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  return promise;
}

/** abortError is the ABORTED GeeCacheError for signal, with its reason as the cause. */
export function abortError(signal: AbortSignal): GeeCacheError {
  return new GeeCacheError("ABORTED", "the request was aborted", { cause: signal.reason });
}
