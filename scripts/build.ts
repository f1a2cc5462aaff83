// Builds dist/geecache, one self-contained executable (bun build --compile), and dist/lib, the library and the client
// as ESM .js with .d.ts, which the npm package ships (package.json `exports`).
// Usage: bun scripts/build.ts [--lib] [OUTFILE]   --lib builds dist/lib alone (npm's "prepare" runs that).
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { $ } from "bun";

const ROOT = resolve(import.meta.dir, "..");

/** BINARY_FILE is where the executable for this machine is written. */
export const BINARY_FILE = join(ROOT, "dist/geecache");

/**
 * LIB_DIR holds the npm package's code: client.js (Node 20+ and Bun), index.js (the library, for Bun), needs-bun.js
 * (what Node gets for "geecache") and types/ (the .d.ts of both entry points).
 */
export const LIB_DIR = join(ROOT, "dist/lib");

/** NEEDS_BUN is what importing "geecache" from Node throws: the library serves with Bun.serve and reads bun:sqlite. */
export const NEEDS_BUN =
  'geecache: the library ("geecache": Group, startNode) runs on Bun (https://bun.sh); from Node, use the client: import { GeeCacheClient } from "geecache/client"';

/** buildBinary compiles src/cli/main.ts for this machine into outfile. */
export async function buildBinary(outfile = BINARY_FILE): Promise<void> {
  // --bytecode ships the code precompiled: start-up to the first answer drops from ~80 to ~40 ms
  // (scripts/bench/startup.ts).
  await $`${process.execPath} build --compile --bytecode --minify --sourcemap --format=esm ${join(ROOT, "src/cli/main.ts")} --outfile ${outfile}`.quiet();
}

/**
 * buildLib writes LIB_DIR afresh: the client bundled for Node (it imports only src/core), the library for Bun, both
 * unminified ESM with the package's dependencies left as imports, and the declarations by tsc (tsconfig.build.json).
 */
export async function buildLib(): Promise<void> {
  rmSync(LIB_DIR, { recursive: true, force: true });
  const bundles = [
    { entry: "src/client/index.ts", target: "node", naming: "client.js" },
    { entry: "src/index.ts", target: "bun", naming: "index.js" },
  ] as const;
  for (const { entry, target, naming } of bundles) {
    const result = await Bun.build({
      entrypoints: [join(ROOT, entry)],
      outdir: LIB_DIR,
      naming,
      target,
      format: "esm",
      packages: "external",
      throw: false,
    });
    if (!result.success) throw new Error(`bun build ${entry} failed:\n${result.logs.join("\n")}`);
  }
  await Bun.write(join(LIB_DIR, "needs-bun.js"), `throw new Error(${JSON.stringify(NEEDS_BUN)});\n`);
  const tsc = await $`${join(ROOT, "node_modules/.bin/tsc")} -p ${join(ROOT, "tsconfig.build.json")}`
    .cwd(ROOT)
    .nothrow()
    .quiet();
  if (tsc.exitCode !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const libOnly = args.includes("--lib");
  const outfile = args.find((a) => !a.startsWith("--"));
  if (!libOnly) {
    await buildBinary(outfile);
    console.log(`built ${outfile ?? BINARY_FILE}`);
  }
  await buildLib();
  console.log(`built ${LIB_DIR}`);
}
