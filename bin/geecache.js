#!/usr/bin/env node
// geecache's npm launcher, as esbuild and Biome ship theirs: npm installs the one @geecache/<platform> package
// (an optionalDependency) that fits this machine, and this runs its binary with the same arguments, stdio
// inherited; the binary's exit code (or signal) becomes the launcher's. Plain Node, no dependencies, no Bun.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { binaryPath, hostPlatform, PLATFORMS, SCOPE } from "./platforms.js";

const FROM_SOURCE = "https://github.com/geecache/geecache/blob/main/docs/install.md";
// Signals the binary handles itself (SIGINT and SIGTERM stop a node gracefully): passed on, not obeyed.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"];

const host = hostPlatform();
const binary = findBinary(host);
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
for (const signal of FORWARDED) process.on(signal, () => child.kill(signal));
child.on("error", (err) => fail(`cannot run ${binary}: ${err.message}`));
child.on("exit", (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  // End the way the binary ended, so a shell or supervisor sees the same signal.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});

/** findBinary is the binary of host's platform package, or a one-line error when that package is not installed. */
function findBinary(name) {
  const platform = PLATFORMS.find((p) => p.name === name);
  if (!platform) fail(`no binary for ${name}; install from source: ${FROM_SOURCE}`);
  const pkg = `${SCOPE}/${platform.name}`;
  let dir;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    fail(`no binary for ${name}: ${pkg} is not installed (npm --omit=optional?); install from source: ${FROM_SOURCE}`);
  }
  const file = join(dir, binaryPath(platform));
  if (!existsSync(file)) fail(`no binary for ${name}: ${file} is missing; reinstall ${pkg}`);
  return file;
}

function fail(message) {
  process.stderr.write(`geecache: ${message}\n`);
  process.exit(1);
}
