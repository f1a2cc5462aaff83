// Builds the release binaries: one `bun build --compile` per target into dist/release/, plus SHA256SUMS and the npm
// packages (dist/release/npm/: geecache and one @geecache/<platform> per binary, scripts/npm-packages.ts).
// Usage: bun scripts/release.ts [--targets=linux-x64,linux-arm64] [--outdir=DIR]
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { NPM_DIR, writeNpmPackages } from "./npm-packages.ts";

/**
 * TARGETS are the `bun build --target` values of a release, in build order (the host's own runtime needs no download).
 */
export const TARGETS = [
  "bun-linux-x64",
  "bun-linux-x64-baseline",
  "bun-linux-arm64",
  "bun-darwin-arm64",
  "bun-darwin-x64",
  "bun-windows-x64",
  "bun-linux-x64-musl-baseline",
] as const;

/** Target is one release target. */
export type Target = (typeof TARGETS)[number];

/** SUMS_FILE is the checksum file of a release, in `sha256sum` format. */
export const SUMS_FILE = "SHA256SUMS";

const ROOT = resolve(import.meta.dir, "..");
const ENTRY = join(ROOT, "src/cli/main.ts");
const DEFAULT_OUTDIR = join(ROOT, "dist/release");
const USAGE = `usage: bun scripts/release.ts [--targets=${TARGETS.map((t) => t.slice(4)).join(",")}] [--outdir=DIR]`;

/** assetName is the file a target's binary is released as: bun-windows-x64 → geecache-windows-x64.exe. */
export function assetName(target: Target): string {
  return `geecache-${target.slice("bun-".length)}${target.startsWith("bun-windows-") ? ".exe" : ""}`;
}

/**
 * hostTarget is the release target that runs on this machine, picked as install.sh picks it (baseline on x64 Linux
 * without AVX2), or undefined.
 */
export async function hostTarget(): Promise<Target | undefined> {
  const os = ({ linux: "linux", darwin: "darwin", win32: "windows" } as Record<string, string>)[process.platform];
  const arch = ({ x64: "x64", arm64: "arm64" } as Record<string, string>)[process.arch];
  if (!os || !arch) return undefined;
  let target = `bun-${os}-${arch}`;
  if (
    target === "bun-linux-x64" &&
    !(
      await Bun.file("/proc/cpuinfo")
        .text()
        .catch(() => "avx2")
    ).includes("avx2")
  )
    target += "-baseline";
  return TARGETS.find((t) => t === target);
}

/**
 * parseTargets turns a --targets list (with or without the bun- prefix) into targets in build order; it throws on an
 * unknown name.
 */
export function parseTargets(list: string): Target[] {
  const wanted = new Set(
    list
      .split(",")
      .filter(Boolean)
      .map((name) => {
        const target = TARGETS.find((t) => t === name || t === `bun-${name}`);
        if (!target)
          throw new TypeError(
            `unknown target ${JSON.stringify(name)}: use some of ${TARGETS.map((t) => t.slice(4)).join(", ")}`,
          );
        return target;
      }),
  );
  if (wanted.size === 0) throw new TypeError("--targets is empty: name at least one target");
  return TARGETS.filter((t) => wanted.has(t));
}

/** sha256File is the hex SHA-256 of a file, read as a stream (binaries are ~100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Built is one binary of a release. */
export interface Built {
  target: Target;
  file: string;
  bytes: number;
  sha256: string;
  ms: number;
}

/**
 * buildRelease compiles each target in turn (two cores: parallel builds only fight) into outdir and
 * writes SUMS_FILE for them. Release files of earlier runs are removed first, so the directory
 * holds one consistent release. A target other than the host's is fetched by bun from the npm
 * registry on its first use and cached (~/.bun/install/cache).
 */
export async function buildRelease(
  targets: readonly Target[],
  outdir: string,
  onBuilt: (b: Built) => void = () => {},
): Promise<Built[]> {
  mkdirSync(outdir, { recursive: true });
  for (const name of [...TARGETS.flatMap((t) => [assetName(t), `${assetName(t)}.map`]), SUMS_FILE])
    rmSync(join(outdir, name), { force: true });
  const built: Built[] = [];
  for (const target of targets) {
    const file = assetName(target);
    const outfile = join(outdir, file);
    const started = performance.now();
    // The version reaches --version through main.ts's import of package.json, which the bundle inlines;
    // --bytecode halves start-up, as in build.ts.
    const proc = Bun.spawnSync(
      [
        process.execPath,
        "build",
        "--compile",
        "--bytecode",
        "--minify",
        "--sourcemap",
        "--format=esm",
        `--target=${target}`,
        ENTRY,
        "--outfile",
        outfile,
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    if (proc.exitCode !== 0) {
      throw new Error(
        `bun build --target=${target} failed (exit ${proc.exitCode}):\n${proc.stderr.toString()}${proc.stdout.toString()}`,
      );
    }
    // --sourcemap embeds the map in the binary (as build.ts does); the copy bun also writes beside it is not released.
    rmSync(`${outfile}.map`, { force: true });
    const b: Built = {
      target,
      file,
      bytes: Bun.file(outfile).size,
      sha256: await sha256File(outfile),
      ms: performance.now() - started,
    };
    built.push(b);
    onBuilt(b);
  }
  const sums = [...built].sort((a, b) => a.file.localeCompare(b.file)).map((b) => `${b.sha256}  ${b.file}\n`);
  await Bun.write(join(outdir, SUMS_FILE), sums.join(""));
  return built;
}

/**
 * checkVersion runs the host's binary, when the release has one, and throws unless --version prints package.json's
 * version.
 */
async function checkVersion(outdir: string, built: readonly Built[]): Promise<string> {
  const host = await hostTarget();
  const b = built.find((x) => x.target === host);
  if (!b) return "not checked (no binary for this machine)";
  const proc = Bun.spawnSync([join(outdir, b.file), "--version"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const printed = proc.stdout.toString().trim();
  if (proc.exitCode !== 0 || printed !== pkg.version) {
    throw new Error(
      `${b.file} --version printed ${JSON.stringify(printed)} (exit ${proc.exitCode}), expected ${pkg.version}: ${proc.stderr.toString()}`,
    );
  }
  return `${b.file} --version prints ${printed}`;
}

function parseArgs(argv: readonly string[]): { targets: Target[]; outdir: string } {
  let targets: Target[] = [...TARGETS];
  let outdir = DEFAULT_OUTDIR;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new TypeError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === "--targets") targets = parseTargets(value());
    else if (flag === "--outdir") outdir = resolve(value());
    else throw new TypeError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return { targets, outdir };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    process.exit(2);
  }
  const { targets, outdir } = options;
  console.log(`geecache ${pkg.version}: building ${targets.length} target(s) into ${outdir}`);
  const started = performance.now();
  const built = await buildRelease(targets, outdir, (b) => console.log(`  built ${b.file} in ${secs(b.ms)}`));
  const version = await checkVersion(outdir, built);
  const packages = await writeNpmPackages(outdir, new Map(built.map((b) => [b.target, join(outdir, b.file)])));

  const rows = [["file", "size", "time", "sha256"], ...built.map((b) => [b.file, mib(b.bytes), secs(b.ms), b.sha256])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join("  ")
        .trimEnd(),
    );
  console.log(`${SUMS_FILE} written; ${version}; npm packages in ${join(outdir, NPM_DIR)}: ${packages.join(", ")}`);
  console.log(`total ${secs(performance.now() - started)}`);
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    console.error(`release: ${(err as Error).message}`);
    process.exit(1);
  }
}
