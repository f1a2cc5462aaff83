import { readFile } from "node:fs/promises";
import { errorMessage } from "../core/errors.ts";
import { duration, type Setting, text } from "../core/settings.ts";
import { formatDuration } from "../core/units.ts";
import type { Discovery, DiscoveryModule } from "./discovery.ts";
import { peerUrl } from "./peer-url.ts";

/** DEFAULT_FILE_INTERVAL is how often a peers file is read again: 1 s. */
export const DEFAULT_FILE_INTERVAL = 1000;

/** FileDiscoveryOptions name the file and how often to read it. */
export interface FileDiscoveryOptions {
  path: string;
  interval?: number;
  /** onError is told when the file cannot be read or holds a bad URL (the last good list is kept). */
  onError?: (message: string) => void;
}

/**
 * parsePeersText reads a peers file: URLs or bare ports separated by commas, spaces or new lines;
 * "#" starts a comment. A bad entry throws a GeeCacheError INVALID_ARGUMENT naming it.
 */
export function parsePeersText(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, ""))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((p) => p !== "")
    .map((p) => peerUrl(p));
}

/**
 * fileDiscovery follows a file that lists the cluster's nodes (written by an operator, a config
 * manager or a test): it is read at start and every interval, and each change of its list is
 * applied. An unreadable file or a bad entry keeps the last good list and is reported once per
 * change of state.
 */
export function fileDiscovery(options: FileDiscoveryOptions): Discovery {
  const interval = options.interval ?? DEFAULT_FILE_INTERVAL;
  if (!(interval > 0)) throw new RangeError(`fileDiscovery interval must be > 0 ms, got ${interval}`);
  return {
    describe: `file ${options.path}`,
    async start(update, signal) {
      let last: string | undefined; // the list last applied; none yet, so the first read is reported even when empty
      let lastError = "";
      const poll = async () => {
        try {
          const urls = parsePeersText(await readFile(options.path, "utf8"));
          lastError = "";
          const key = urls.join(",");
          if (key !== last) {
            last = key;
            update(urls);
          }
        } catch (err) {
          const message = `peers file ${options.path}: ${errorMessage(err)}`;
          if (message !== lastError) options.onError?.(message);
          lastError = message;
        }
      };
      await poll();
      const timer = setInterval(() => void poll(), interval);
      timer.unref();
      signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    },
  };
}

/** FILE_SETTINGS name the peers file and how often it is read. */
const FILE_SETTINGS: readonly Setting[] = [
  {
    name: "peers-file",
    help:
      "File listing every node (URLs or bare ports, comma- or line-separated), read again every " +
      "--peers-file-interval: membership changes without a restart",
    hint: "peers.txt",
    parse: text(true),
  },
  {
    name: "peers-file-interval",
    help: "How often --peers-file is read again",
    fallback: formatDuration(DEFAULT_FILE_INTERVAL),
    parse: duration(1, "500ms or 1s"),
  },
];

/** fileDiscoveryModule follows --peers-file. */
export const fileDiscoveryModule: DiscoveryModule = {
  name: "file",
  flag: "peers-file",
  settings: FILE_SETTINGS,
  chosen: (o) => o.peersFile !== undefined,
  create: (o, context) =>
    fileDiscovery({ path: o.peersFile as string, interval: o.peersFileInterval as number, onError: context.warn }),
};
