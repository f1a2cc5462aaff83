// The tree shows the architecture: each folder of src/ is a layer, imports point down only, no
// file imports the CLI, there is no import cycle, and no file is over 300 lines.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/** MAY_IMPORT lists, for each layer, the layers its files may import (itself included). */
const MAY_IMPORT: Record<string, string[]> = {
  core: ["core"],
  group: ["core", "group"],
  sources: ["core", "group", "sources"],
  cluster: ["core", "group", "cluster"],
  transport: ["core", "group", "cluster", "transport"],
  // The status page asks peers through the cluster's peer clients, never through a transport of its own.
  observability: ["core", "group", "cluster", "observability"],
  node: ["core", "group", "sources", "cluster", "transport", "observability", "node"],
  client: ["core", "client"],
  cli: ["core", "group", "sources", "cluster", "transport", "observability", "node", "cli"],
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const files = walk(SRC);
const layerOf = (file: string) => relative(SRC, file).split("/")[0]!;
const importsOf = (file: string): string[] =>
  [...readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)].map((m) =>
    resolve(dirname(file), m[1]!),
  );

describe("src/ layout", () => {
  test("the root holds only index.ts; every other file is in a layer folder", () => {
    expect(readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isFile())).toEqual(["index.ts"]);
    expect(files.map(layerOf).filter((l) => l !== "index.ts" && !(l in MAY_IMPORT))).toEqual([]);
  });

  test("imports point down: no file imports a layer above its own", () => {
    const wrong: string[] = [];
    for (const f of files) {
      const layer = layerOf(f);
      if (layer === "index.ts") continue;
      for (const target of importsOf(f)) {
        const to = layerOf(target);
        if (!target.startsWith(SRC)) continue; // package.json, for the version
        if (!MAY_IMPORT[layer]!.includes(to)) wrong.push(`${relative(SRC, f)} -> ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("no transport imports another: what two transports share lives in cluster/ or core/", () => {
    const folderOf = (file: string) => relative(SRC, file).split("/").slice(0, 2).join("/");
    const wrong: string[] = [];
    for (const f of files.filter((f) => layerOf(f) === "transport")) {
      for (const target of importsOf(f)) {
        if (layerOf(target) === "transport" && folderOf(target) !== folderOf(f))
          wrong.push(`${relative(SRC, f)} -> ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("there is no import cycle", () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.endsWith(".ts"))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, "done");
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  test("no file is over 300 lines", () => {
    const long = files
      .map((f) => [relative(SRC, f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });
});
