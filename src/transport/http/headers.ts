/**
 * The HTTP peer protocol's own headers, beside core/responses.ts's ERROR_CODE_HEADER. Go GeeCache and groupcache
 * peers ignore every one of them.
 */

/** BOOT_HEADER on a peer's answer names the answering process: a new value means the peer restarted. */
export const BOOT_HEADER = "x-geecache-boot";

/** COPY_HEADER on a peer PUT stores the value as a copy for when its owner is down (--copies), not as the owner's. */
export const COPY_HEADER = "x-geecache-copy";

/** OFFER_HEADER on a peer PUT stores the value only if the peer holds none of its own (a leaving node's handover). */
export const OFFER_HEADER = "x-geecache-offer";

/** WRITTEN_HEADER on a peer PUT says when the value was written (Unix ms at the node that took the write). */
export const WRITTEN_HEADER = "x-geecache-written";

/** GENERATION_HEADER carries a group's purge number: on a peer's answer, and on a purge. */
export const GENERATION_HEADER = "x-geecache-generation";

/** PURGE_SEGMENT is the peer route that purges a group: POST {basePath}_purge/{group}. */
export const PURGE_SEGMENT = "_purge";

/** MEMBER_SEGMENT is the peer route where a node announces it leaves or joins: POST {basePath}_member. */
export const MEMBER_SEGMENT = "_member";

/** PEEK_HEADER on a peer GET asks for the cached copy only: never loaded, never forwarded (handoff). */
export const PEEK_HEADER = "x-geecache-peek";
