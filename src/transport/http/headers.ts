/**
 * The HTTP peer protocol's own headers, beside core/responses.ts's ERROR_CODE_HEADER. Go GeeCache and groupcache
 * peers ignore every one of them.
 */

/** BOOT_HEADER on a peer's answer names the answering process: a new value means the peer restarted. */
export const BOOT_HEADER = "x-geecache-boot";

/** COPY_HEADER on a peer PUT stores the value as a copy for when its owner is down (--copies), not as the owner's. */
export const COPY_HEADER = "x-geecache-copy";

/** PEEK_HEADER on a peer GET asks for the cached copy only: never loaded, never forwarded (handoff). */
export const PEEK_HEADER = "x-geecache-peek";
