// The npm platform packages, one per binary, each installed by npm only where its os, cpu and libc match.
// Plain Node ESM without dependencies: the launcher (bin/geecache.js) and scripts/release.ts both read it.
import { readFileSync } from "node:fs";

/** SCOPE is the npm scope of the platform packages: @geecache/linux-x64 and so on. */
export const SCOPE = "@geecache";

/**
 * @typedef {object} Platform one platform package
 * @property {string} name the package is SCOPE/name; name is what hostPlatform returns on its machines
 * @property {string} target the `bun build --target` of the binary it carries (a target of scripts/release.ts)
 * @property {"linux" | "darwin" | "win32"} os its package.json os (Node's process.platform)
 * @property {"x64" | "arm64"} cpu its package.json cpu (Node's process.arch)
 * @property {"glibc" | "musl"} [libc] its package.json libc, on Linux
 */

/**
 * PLATFORMS are the platform packages. x64 Linux gets the baseline builds: npm cannot look at the CPU before it
 * installs, and a build that needs AVX2 dies of SIGILL on a CPU without it (install.sh can look, and does).
 * @type {readonly Platform[]}
 */
export const PLATFORMS = [
  { name: "linux-x64", target: "bun-linux-x64-baseline", os: "linux", cpu: "x64", libc: "glibc" },
  { name: "linux-x64-musl", target: "bun-linux-x64-musl-baseline", os: "linux", cpu: "x64", libc: "musl" },
  { name: "linux-arm64", target: "bun-linux-arm64", os: "linux", cpu: "arm64", libc: "glibc" },
  { name: "darwin-x64", target: "bun-darwin-x64", os: "darwin", cpu: "x64" },
  { name: "darwin-arm64", target: "bun-darwin-arm64", os: "darwin", cpu: "arm64" },
  { name: "windows-x64", target: "bun-windows-x64", os: "win32", cpu: "x64" },
];

/**
 * binaryPath is where a platform package holds its binary, relative to the package.
 * @param {Platform} platform
 */
export function binaryPath(platform) {
  return platform.os === "win32" ? "bin/geecache.exe" : "bin/geecache";
}

/**
 * hostPlatform names this machine as PLATFORMS do (linux-x64, linux-x64-musl, windows-x64), also when no package
 * fits (linux-ppc64).
 */
export function hostPlatform() {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}${process.platform === "linux" && isMusl() ? "-musl" : ""}`;
}

/** isMusl tells whether this Linux runs on musl (Alpine): its ldd says so, or Node was built without glibc. */
function isMusl() {
  try {
    return readFileSync("/usr/bin/ldd", "latin1").includes("musl");
  } catch {
    // no ldd (a distroless image): Node's own report names the glibc it runs on, if any
    const header = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header);
    return !header.glibcVersionRuntime;
  }
}
