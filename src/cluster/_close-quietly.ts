import type { TransportClient } from "./transport.ts";

/** closeQuietly closes client and never rejects: a client that fails to close has nothing left to free. */
export async function closeQuietly(client: TransportClient): Promise<void> {
  try {
    await client.close?.();
  } catch {
    // a client that fails to close has nothing left to free
  }
}
