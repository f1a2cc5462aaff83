/**
 * GeeCacheClientError is what a GeeCacheClient call rejects with: `status` is the node's HTTP
 * status (0 when no node could be reached) and the message is the node's one-line answer.
 */
export class GeeCacheClientError extends Error {
  override readonly name = "GeeCacheClientError";
  /** status is the HTTP status of the last answer, or 0 when no node answered at all. */
  readonly status: number;
  /** url is the node that answered (or the last one tried). */
  readonly url: string;

  constructor(status: number, message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.url = url;
  }
}
