// The npm package as a user gets it: `npm pack` of this checkout (its "prepare" builds dist/lib), `npm install` of
// the tarball into an empty folder (test/helpers/npm.ts: offline, a cache of its own), and then what users run:
// Node 20 imports geecache/client and talks to a real node (dist/geecache on port 0), Bun imports the library, tsc
// checks a user's TypeScript against the shipped .d.ts, and the launcher, with no platform package, says so.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hostPlatform } from "../bin/platforms.js";
import pkg from "../package.json" with { type: "json" };
import { NEEDS_BUN } from "../scripts/build.ts";
import { installTarballs, NODE, nodeOnlyPath, npm, packDependencies, run, tarballName } from "./helpers/npm.ts";
import { requireBinary, spawnNode } from "./helpers/process.ts";

const ROOT = resolve(import.meta.dir, "..");
const SETUP_TIMEOUT_MS = 120_000;

let scratch: string; // temp files of this run, removed at the end
let app: string; // the user's project, with geecache installed from the tarball

beforeAll(async () => {
  requireBinary();
  scratch = mkdtempSync(join(tmpdir(), "geecache-package-test-"));
  const cache = join(scratch, "npm-cache");
  await npm(["pack", `--pack-destination=${scratch}`], ROOT, cache);
  const deps = await packDependencies(join(scratch, "deps"));
  app = join(scratch, "app");
  await installTarballs(app, [...deps, join(scratch, tarballName(pkg.name))], cache);
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** inApp writes a file of the user's project and returns its path. */
async function inApp(name: string, text: string): Promise<string> {
  await Bun.write(join(app, name), text);
  return join(app, name);
}

describe("the geecache npm package", () => {
  test("holds dist/lib, the launcher, README and LICENSE: no sources, no tests", () => {
    const installed = join(app, "node_modules/geecache");
    expect(readdirSync(installed).sort()).toEqual(["LICENSE", "README.md", "bin", "dist", "package.json"]);
    expect(readdirSync(join(installed, "dist"))).toEqual(["lib"]);
    expect(readdirSync(join(installed, "dist/lib")).sort()).toEqual(["client.js", "index.js", "needs-bun.js", "types"]);
    expect(readdirSync(join(installed, "bin")).sort()).toEqual(["geecache.js", "platforms.js"]);
  });

  test("Node imports geecache/client and round-trips a value through a real node", async () => {
    await using node = await spawnNode(["--port=0", "--host=127.0.0.1"]);
    const script = await inApp(
      "client.mjs",
      `import { GeeCacheClient } from "geecache/client";
const client = new GeeCacheClient({ urls: process.argv[2] });
const tom = await client.getText("Tom");
const written = await client.set("from-node", "hello");
console.log(JSON.stringify({ tom, written, back: await client.getText("from-node") }));
`,
    );
    const r = await run([NODE!, script, node.url], { cwd: app });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout)).toEqual({ tom: "630", written: { failedPeers: [] }, back: "hello" });
  });

  test('Node importing "geecache" (the library) is told it needs Bun and to use geecache/client', async () => {
    const script = await inApp("library.mjs", 'await import("geecache").catch((err) => console.log(err.message));\n');
    const r = await run([NODE!, script], { cwd: app });
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: NEEDS_BUN });
  });

  test("Bun imports the library: the exports of src/index.ts, and a Group that loads", async () => {
    const script = await inApp(
      "group.mjs",
      `import * as geecache from "geecache";
const group = new geecache.Group({ name: "scores", getter: geecache.demoSource("scores") });
console.log(JSON.stringify({ names: Object.keys(geecache).sort(), tom: (await group.get("Tom")).toString() }));
`,
    );
    const r = await run([process.execPath, script], { cwd: app });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const names = Object.keys(await import("../src/index.ts")).sort();
    expect(JSON.parse(r.stdout)).toEqual({ names, tom: "630" });
  });

  test("tsc checks a user's TypeScript against the shipped declarations (types condition, NodeNext)", async () => {
    await inApp(
      "tsconfig.json",
      JSON.stringify({
        compilerOptions: { module: "nodenext", strict: true, noEmit: true, lib: ["ESNext", "DOM"], types: [] },
        files: ["user.mts"],
      }),
    );
    await inApp(
      "user.mts",
      `import { GeeCacheClient, GeeCacheClientError, type WriteOutcome } from "geecache/client";
const client = new GeeCacheClient({ urls: ["http://127.0.0.1:1"], timeout: 100 });
const value: Uint8Array | undefined = await client.get("Tom");
const outcome: WriteOutcome = await client.set("k", "v", { ttl: "1m" });
// @ts-expect-error keys are strings: the declarations are real types, not any
await client.get(42);
console.log(value, outcome, GeeCacheClientError.name);
`,
    );
    const r = await run([join(ROOT, "node_modules/.bin/tsc"), "-p", app], { cwd: app });
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
  });

  test("its launcher, with no platform package installed, says so in one line and exits 1", async () => {
    const r = await run([join(app, "node_modules/.bin/geecache"), "--version"], {
      cwd: app,
      env: { PATH: nodeOnlyPath() },
    });
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: "" });
    expect(r.stderr).toStartWith(`geecache: no binary for ${hostPlatform()}`);
    expect(r.stderr).toContain("install from source: ");
    expect(r.stderr.split("\n")).toHaveLength(2); // one line and its newline
  });

  test("bin is the launcher, executable as committed, so npm's chmod of a bin changes no file", async () => {
    expect(pkg.bin).toEqual({ geecache: "./bin/geecache.js" });
    const git = await run(["git", "ls-files", "-s", "bin/geecache.js"], { cwd: ROOT });
    expect(git.stdout).toStartWith("100755 ");
    expect(statSync(join(ROOT, "bin/geecache.js")).mode & 0o777).toBe(0o755);
  });
});
