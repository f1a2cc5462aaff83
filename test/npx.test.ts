// `npx geecache` without Bun. scripts/release.ts builds this machine's platform package alone (--targets=), npm packs
// it and the geecache package that the release stages (the platform packages as its optionalDependencies), and both
// are installed offline into an empty folder (test/helpers/npm.ts). Then, with a PATH of node and no bun, the
// launcher (node_modules/.bin/geecache) prints the version, passes exit codes through and serves the demo source.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { binaryPath, hostPlatform, PLATFORMS, SCOPE } from "../bin/platforms.js";
import pkg from "../package.json" with { type: "json" };
import { NPM_DIR, ROOT_PACKAGE } from "../scripts/npm-packages.ts";
import { TARGETS } from "../scripts/release.ts";
import { installTarballs, nodeOnlyPath, npm, packDependencies, run, tarballName } from "./helpers/npm.ts";
import { runCli, spawnNode } from "./helpers/process.ts";

const ROOT = resolve(import.meta.dir, "..");
const SETUP_TIMEOUT_MS = 180_000; // a release build, and npm packing a 100 MB binary
const HOST = PLATFORMS.find((p) => p.name === hostPlatform());
if (!HOST) console.log(`npx.test: skipping the install: no platform package for ${hostPlatform()}`);

let scratch: string; // temp files of this run, removed at the end
let packages: string; // the release's npm packages
let app: string; // the user's project
let launcher: string; // its node_modules/.bin/geecache
let cache: string; // npm's cache for this run

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "geecache-npx-test-"));
  const release = join(scratch, "release");
  packages = join(release, NPM_DIR);
  const build = await run(
    [
      process.execPath,
      join(ROOT, "scripts/release.ts"),
      `--targets=${HOST?.target ?? TARGETS[0]}`,
      `--outdir=${release}`,
    ],
    { cwd: ROOT, timeoutMs: SETUP_TIMEOUT_MS },
  );
  if (build.code !== 0) throw new Error(`scripts/release.ts exited ${build.code}:\n${build.stdout}${build.stderr}`);
  if (!HOST) return;
  cache = join(scratch, "npm-cache");
  await npm(["pack", `./${ROOT_PACKAGE}`, `./${HOST.name}`, `--pack-destination=${scratch}`], packages, cache);
  const deps = await packDependencies(join(scratch, "deps"));
  const tarballs = [pkg.name, `${SCOPE}/${HOST.name}`].map((name) => join(scratch, tarballName(name)));
  app = join(scratch, "app");
  await installTarballs(app, [...deps, ...tarballs], cache);
  launcher = join(app, "node_modules/.bin/geecache");
}, SETUP_TIMEOUT_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the release's npm packages", () => {
  test("every platform package carries a release target", () => {
    expect(PLATFORMS.filter((p) => !(TARGETS as readonly string[]).includes(p.target))).toEqual([]);
  });

  test("geecache lists every platform package, at its own version, as an optionalDependency", async () => {
    const manifest = await Bun.file(join(packages, ROOT_PACKAGE, "package.json")).json();
    const optional = Object.fromEntries(PLATFORMS.map((p) => [`${SCOPE}/${p.name}`, pkg.version]));
    expect(manifest).toEqual({ ...manifest, name: pkg.name, version: pkg.version, optionalDependencies: optional });
    expect([manifest.scripts, manifest.devDependencies]).toEqual([undefined, undefined]);
  });

  test.skipIf(!HOST)("the host's platform package: its os, cpu and libc, and the binary", async () => {
    const dir = join(packages, HOST!.name);
    const manifest = await Bun.file(join(dir, "package.json")).json();
    expect(manifest).toEqual({
      name: `${SCOPE}/${HOST!.name}`,
      version: pkg.version,
      description: manifest.description,
      license: pkg.license,
      os: [HOST!.os],
      cpu: [HOST!.cpu],
      ...(HOST!.libc ? { libc: [HOST!.libc] } : {}),
      preferUnplugged: true,
    });
    expect(await Bun.file(join(dir, binaryPath(HOST!))).exists()).toBe(true);
  });
});

describe.skipIf(!HOST)("npx geecache (node_modules/.bin/geecache, no bun on PATH)", () => {
  test.each([
    ["node_modules/.bin/geecache", () => [launcher]],
    ["npx geecache", () => [Bun.which("npx")!, "--offline", `--cache=${cache}`, "geecache"]],
  ])("%s --version prints package.json's version", async (_, cmd) => {
    const r = await run([...cmd(), "--version"], { cwd: app, env: { PATH: nodeOnlyPath() } });
    expect({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      code: 0,
      stdout: pkg.version,
      stderr: "",
    });
  });

  test("the binary's exit code and stderr come through: an unknown flag", async () => {
    const direct = await runCli(["--frobnicate"]);
    const r = await run([launcher, "--frobnicate"], { cwd: scratch, env: { PATH: nodeOnlyPath() } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: direct.code, stderr: direct.stderr });
    expect(r.code).toBe(2);
  });

  test("serves /api?key=Tom = 630, and SIGTERM to the launcher stops the binary too", async () => {
    const node = await spawnNode(["--port=0", "--host=127.0.0.1"], { binary: launcher, env: { PATH: nodeOnlyPath() } });
    try {
      const res = await fetch(`${node.url}/api?key=Tom`, { signal: AbortSignal.timeout(5000) });
      expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: "630" });
    } finally {
      expect(await node.stop("SIGTERM")).toBe(0);
    }
    // The launcher exits only after the binary has: its port is closed by now.
    expect(
      await fetch(`${node.url}/healthz`).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");
  });
});
