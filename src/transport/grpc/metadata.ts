// geecachepb.GroupCache's path and the metadata of geecache's extensions, which Go clients ignore.

/** SERVICE_PATH is the path prefix of geecachepb.GroupCache's methods. */
export const SERVICE_PATH = "/geecachepb.GroupCache/";

/**
 * COPY_METADATA on a Set stores the value as a copy for when its owner is down (--copies), not as the owner's value.
 */
export const COPY_METADATA = "geecache-copy";

/**
 * PEEK_METADATA on a Get asks for the cached copy only, never loaded (a new owner's handoff peek); NOT_FOUND when none.
 */
export const PEEK_METADATA = "geecache-peek";

/** OFFER_METADATA on a Set stores the value only if this node holds none of its own (a leaving node's handover). */
export const OFFER_METADATA = "geecache-offer";

/** WRITTEN_METADATA on a Set says when the value was written (Unix ms at the node that took the write). */
export const WRITTEN_METADATA = "geecache-written";

/** BOOT_METADATA carries the answering process's boot id (ignored by other clients). */
export const BOOT_METADATA = "geecache-boot";
