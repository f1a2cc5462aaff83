import { type ConsolaInstance, createConsola, type LogObject } from "consola";

/** LOG_LEVELS are how much a node may log, least first. */
export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
/** LOG_FORMATS are the shapes of a log line: pretty text or one JSON object a line. */
export const LOG_FORMATS = ["pretty", "json"] as const;
/** DEFAULT_LOG_LEVEL logs what an operator acts on and the node's life events, not every load. */
export const DEFAULT_LOG_LEVEL: (typeof LOG_LEVELS)[number] = "info";

/** LoggerOptions choose how much a node logs and in what shape. */
export interface LoggerOptions {
  level: (typeof LOG_LEVELS)[number];
  format: (typeof LOG_FORMATS)[number];
  /**
   * write receives each finished line and its level (default: JSON all to standard output; pretty warn and error to
   * standard error).
   */
  write?: (line: string, level: string) => void;
  /** secrets (tokens, passwords) are replaced by *** wherever they appear in a line. */
  secrets?: readonly string[];
}

/** LogFields are the structured data of a line: JSON puts them in `fields`, pretty lines leave them to the message. */
export interface LogFields {
  peer?: string;
  group?: string;
  key?: string;
  status?: string | number;
  duration_ms?: number;
  error?: string;
  [name: string]: unknown;
}

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 } as const;
const PRETTY_LEVEL: Record<string, string> = {
  error: "ERROR",
  fatal: "ERROR",
  warn: "WARN ",
  info: "INFO ",
  log: "INFO ",
  success: "INFO ",
  debug: "DEBUG",
  trace: "DEBUG",
};

/**
 * createLogger returns the node's consola logger, tagged "geecache". Call it as
 * `log.warn(message, fields)`: json writes one object a line (time, level, tag, message, fields),
 * pretty one line `HH:MM:SS.mmm LEVEL message`. Every line is scrubbed of options.secrets and of
 * URL passwords before it is written.
 */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const write = options.write ?? defaultWrite(options.format);
  const scrub = scrubber(options.secrets ?? []);
  const reporter = {
    log(obj: LogObject) {
      const [first, ...rest] = obj.args;
      const message =
        typeof first === "string" ? first : first instanceof Error ? first.message : JSON.stringify(first);
      if (options.format === "pretty") {
        write(
          `${scrub(`${clock(obj.date)} ${PRETTY_LEVEL[obj.type] ?? obj.type.toUpperCase()} ${message}`)}\n`,
          obj.type,
        );
        return;
      }
      const fields = rest.length === 1 && isPlainObject(rest[0]) ? rest[0] : rest.length ? { args: rest } : undefined;
      const line = JSON.stringify({
        time: obj.date.toISOString(),
        level: obj.type,
        tag: obj.tag || "geecache",
        message,
        ...(fields ? { fields } : {}),
      });
      write(`${scrub(line)}\n`, obj.type);
    },
  };
  return createConsola({ level: LEVELS[options.level], reporters: [reporter] }).withTag("geecache");
}

function defaultWrite(format: LoggerOptions["format"]): (line: string, level: string) => void {
  if (format === "json") return (line) => void process.stdout.write(line);
  return (line, level) =>
    void (level === "warn" || level === "error" || level === "fatal" ? process.stderr : process.stdout).write(line);
}

/** clock is the local wall time of d as HH:MM:SS.mmm. */
function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * scrubber hides each secret (also JSON-escaped) and the password of any URL (scheme://user:password@) or password=
 * parameter.
 */
function scrubber(secrets: readonly string[]): (line: string) => string {
  const forms = [...new Set(secrets.filter((s) => s !== "").flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort(
    (a, b) => b.length - a.length,
  );
  return (line) => {
    let out = line
      .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]+:)[^\s@"]*@/gi, "$1***@")
      .replace(/(password=)[^&\s"]*/gi, "$1***");
    for (const s of forms) out = out.replaceAll(s, "***");
    return out;
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}
