import { createConsola, type ConsolaInstance, type LogObject } from "consola";

/** LoggerOptions choose how much a node logs and in what shape. */
export interface LoggerOptions {
  level: "silent" | "error" | "warn" | "info" | "debug";
  format: "pretty" | "json";
  /** write receives each JSON line (default: standard output). */
  write?: (line: string) => void;
}

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 } as const;

/** createLogger returns the node's consola logger, tagged "geecache"; json writes one object a line: time, level, tag, message, fields. */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const reporters =
    options.format === "json"
      ? [
          {
            log(obj: LogObject) {
              const [first, ...rest] = obj.args;
              const fields = rest.length === 1 && isPlainObject(rest[0]) ? rest[0] : rest.length ? { args: rest } : undefined;
              const message = typeof first === "string" ? first : first instanceof Error ? first.message : JSON.stringify(first);
              write(`${JSON.stringify({ time: obj.date.toISOString(), level: obj.type, tag: obj.tag || "geecache", message, ...(fields ? { fields } : {}) })}\n`);
            },
          },
        ]
      : undefined;
  return createConsola({ level: LEVELS[options.level], ...(reporters ? { reporters } : {}) }).withTag("geecache");
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}
