// npm as a user runs it, for the packaging tests (package.test.ts, npx.test.ts): real `npm pack` and `npm install`,
// but offline and with a cache of the test's own, so a run needs no registry and leaves nothing in the user's npm
// cache (a platform package is a 100 MB binary, and npm caches every tarball it packs or installs).

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { childEnv } from "./process.ts";

/** NODE is the Node.js the tests run users' code with (the first `node` on PATH). */
export const NODE = Bun.which("node");

/** RunResult is how a command ended. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * run runs cmd to completion (SIGKILL after timeoutMs) in cwd. Its environment is childEnv(env) without npm's own
 * npm_* variables: under `npm test` they name this checkout as the prefix, and an install would land in it.
 */
export async function run(
  cmd: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<RunResult> {
  const env = Object.fromEntries(Object.entries(childEnv(options.env)).filter(([k]) => !/^npm_/i.test(k)));
  const proc = Bun.spawn([...cmd], {
    cwd: options.cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code: proc.exitCode, stdout, stderr };
}

/** npm runs npm with args in cwd, offline and with cache as its cache, and throws with its output unless it succeeds. */
export async function npm(args: readonly string[], cwd: string, cache: string): Promise<string> {
  const flags = [`--cache=${cache}`, "--offline", "--no-audit", "--no-fund", "--no-update-notifier"];
  const r = await run(["npm", ...args, ...flags], { cwd });
  if (r.code !== 0) throw new Error(`npm ${args.join(" ")} exited ${r.code} in ${cwd}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** tarballName is the file `npm pack` writes for a package: @geecache/linux-x64 0.1.0 → geecache-linux-x64-0.1.0.tgz. */
export function tarballName(name: string, version = pkg.version): string {
  return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/**
 * packDependencies packs geecache's runtime dependencies (citty, consola), as npm ci left them in npm's own cache,
 * into dir and returns the tarballs. Installed beside geecache's tarball they satisfy its dependencies, so the install
 * needs no registry metadata, which that cache may lack. Only a cache without them reaches for the registry.
 */
export async function packDependencies(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const specs = Object.entries(pkg.dependencies).map(([name, version]) => `${name}@${version}`);
  const r = await run(["npm", "pack", ...specs, "--prefer-offline", `--pack-destination=${dir}`], { cwd: dir });
  if (r.code !== 0) throw new Error(`npm pack ${specs.join(" ")} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return Object.entries(pkg.dependencies).map(([name, version]) => join(dir, tarballName(name, version)));
}

/** installTarballs makes dir an empty npm project and installs the tarballs into it, offline. */
export async function installTarballs(dir: string, tarballs: readonly string[], cache: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await Bun.write(join(dir, "package.json"), '{ "private": true, "type": "module" }\n');
  await npm(["install", ...tarballs], dir, cache);
}

/** nodeOnlyPath is a PATH of node's own folder alone: no bun, so a launcher that needed it would fail. */
export function nodeOnlyPath(): string {
  if (!NODE) throw new Error("node is not on PATH");
  const path = dirname(NODE);
  if (Bun.which("bun", { PATH: path })) throw new Error(`${path} holds both node and bun: no PATH without bun`);
  return path;
}
