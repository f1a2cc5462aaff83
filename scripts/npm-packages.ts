// The npm packages of a release, each a folder ready for `npm pack` or `npm publish`: one @geecache/<platform> per
// binary, and geecache itself, which lists them all as optionalDependencies (npm installs the one that fits).
// They are staged here rather than in package.json, because `npm ci` in this checkout must not need packages that
// the registry does not have yet.
import { copyFileSync, cpSync, linkSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { binaryPath, PLATFORMS, type Platform, SCOPE } from "../bin/platforms.js";
import pkg from "../package.json" with { type: "json" };
import { buildLib } from "./build.ts";

/** NPM_DIR is the folder, inside a release's outdir, that holds its npm packages. */
export const NPM_DIR = "npm";

/** ROOT_PACKAGE is the folder name (under NPM_DIR) of the geecache package itself. */
export const ROOT_PACKAGE = "geecache";

const ROOT = resolve(import.meta.dir, "..");

/**
 * writeNpmPackages writes outdir/NPM_DIR afresh: a folder per platform whose binary is in binaries (target → file)
 * and, after `bun scripts/build.ts --lib`, the geecache package. It returns the folders' names.
 */
export async function writeNpmPackages(outdir: string, binaries: ReadonlyMap<string, string>): Promise<string[]> {
  const npmDir = join(outdir, NPM_DIR);
  rmSync(npmDir, { recursive: true, force: true });
  const written: string[] = [];
  for (const platform of PLATFORMS) {
    const binary = binaries.get(platform.target);
    if (!binary) continue;
    await writePlatformPackage(join(npmDir, platform.name), platform, binary);
    written.push(platform.name);
  }
  await buildLib();
  await writeRootPackage(join(npmDir, ROOT_PACKAGE));
  return [ROOT_PACKAGE, ...written];
}

/** writePlatformPackage writes one platform package: its manifest, LICENSE and the binary (a hard link if it can). */
async function writePlatformPackage(dir: string, platform: Platform, binary: string): Promise<void> {
  const file = join(dir, binaryPath(platform));
  mkdirSync(dirname(file), { recursive: true });
  try {
    linkSync(binary, file);
  } catch {
    copyFileSync(binary, file);
  }
  copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
  const manifest = {
    name: `${SCOPE}/${platform.name}`,
    version: pkg.version,
    description: `The geecache binary for ${platform.name}; the geecache package runs it`,
    license: pkg.license,
    os: [platform.os],
    cpu: [platform.cpu],
    ...(platform.libc ? { libc: [platform.libc] } : {}),
    // Yarn's plug'n'play would otherwise keep the binary inside a zip, where it cannot be run.
    preferUnplugged: true,
  };
  await Bun.write(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * writeRootPackage writes the geecache package: what package.json's files name, and its manifest without what only
 * this checkout uses (scripts, devDependencies), plus every platform package as an optionalDependency.
 */
async function writeRootPackage(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const entry of pkg.files) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  const { scripts: _scripts, devDependencies: _dev, allowScripts: _allow, ...manifest } = pkg;
  const optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [`${SCOPE}/${p.name}`, pkg.version]));
  await Bun.write(join(dir, "package.json"), `${JSON.stringify({ ...manifest, optionalDependencies }, null, 2)}\n`);
}
