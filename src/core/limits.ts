/** DEFAULT_MAX_KEY_BYTES is the longest key the API accepts: 4 KiB of UTF-8. */
export const DEFAULT_MAX_KEY_BYTES = 4096;

/** MAX_KEY_BYTES is the longest key any group takes, in UTF-8 bytes, so a key always fits a URL and a log line. */
export const MAX_KEY_BYTES = 64 * 1024;

/** DEFAULT_MAX_VALUE_BYTES is the largest value a PUT (API or peer) may write: 1 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** GROUP_NAME is what a group name may be: 1 to 128 letters, digits, "-", "_" or ".". */
export const GROUP_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** DEFAULT_MAX_BATCH_KEYS is the most keys one `POST /api/batch` may ask for. */
export const DEFAULT_MAX_BATCH_KEYS = 1000;
