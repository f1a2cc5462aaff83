import { bool, oneOf, type Setting } from "../core/settings.ts";
import { DEFAULT_LOG_LEVEL, LOG_FORMATS, LOG_LEVELS } from "./log.ts";

/** LOG_SETTINGS choose how much a node logs and in what shape. */
export const LOG_SETTINGS: readonly Setting[] = [
  {
    name: "log-level",
    help: "silent, error, warn, info or debug (debug logs every load)",
    fallback: DEFAULT_LOG_LEVEL,
    parse: oneOf(LOG_LEVELS),
  },
  {
    name: "log-format",
    help: "pretty or json (one JSON object a line)",
    fallback: LOG_FORMATS[0],
    parse: oneOf(LOG_FORMATS),
  },
  {
    name: "access-log",
    help:
      "Write one JSON line per request on standard output: method, path (token-like query values hidden), " +
      "status, bytes, duration_ms, remote address, peer route or not",
    flag: true,
    fallback: "false",
    parse: bool,
  },
];
