import type { Getter } from "../group.ts";
import { demoSource } from "./demo.ts";
import { sqliteSource } from "./sqlite.ts";

/** Source is a loader with a name that is safe to log (no passwords). */
export interface Source {
  getter: Getter;
  describe: string;
}

/** sourceFromSpec builds the loader a `--source` flag names: `demo` or `sqlite:PATH`; it throws when the source cannot be opened. */
export function sourceFromSpec(spec: string, group: string, options: { query?: string } = {}): Source {
  if (spec === "demo") return { getter: demoSource(group), describe: "demo (in-memory SQLite: Tom, Jack, Sam)" };
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    return { getter: sqliteSource({ db: path, table: group, query: options.query }), describe: `sqlite:${path}` };
  }
  throw new TypeError(`unknown source ${JSON.stringify(spec)}: use demo or sqlite:PATH`);
}
