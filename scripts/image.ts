// Builds the container image from ./Containerfile with buildah: stages dist/geecache, the shared
// libraries `ldd` names for it and a passwd entry for the non-root user in dist/image/rootfs/, then
// runs `buildah build` on that folder. Builds dist/geecache first when it is missing.
// Usage: bun scripts/image.ts [--tag=geecache:VERSION] [--context=DIR] [--root=DIR] [--runroot=DIR]
// [--storage-driver=vfs]
// (--root, --runroot and --storage-driver are buildah's own storage options, for a private store.)
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

/** IMAGE_UID is the numeric user (and group) the image runs as: not root, the distroless "nonroot" id. */
export const IMAGE_UID = 65532;

/** DEFAULT_TAG is the image name `npm run image` builds. */
export const DEFAULT_TAG = `geecache:${pkg.version}`;

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist/geecache");
const CONTAINERFILE = join(ROOT, "Containerfile");
const DEFAULT_CONTEXT = join(ROOT, "dist/image");
const STEP_TIMEOUT_MS = 300_000;
const OPTIONS = ["tag", "context", "root", "runroot", "storage-driver"] as const;
const USAGE = `usage: bun scripts/image.ts ${OPTIONS.map((o) => `[--${o}=...]`).join(" ")}`;

/** ImageOptions are the settings of one build; root, runroot and storageDriver pick buildah's store. */
export interface ImageOptions {
  tag: string;
  context: string;
  root?: string;
  runroot?: string;
  storageDriver?: string;
}

/**
 * sharedLibraries lists the absolute paths `ldd` prints for binary (dynamic loader included, vDSO left out); [] for a
 * static binary.
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const proc = Bun.spawn(["ldd", binary], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (/not a dynamic executable|statically linked/.test(out + err)) return [];
  if (code !== 0) throw new Error(`ldd ${binary} exited ${code}: ${err.trim()}`);
  const paths: string[] = [];
  for (const line of out.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (line.includes("=> not found")) throw new Error(`ldd ${binary}: ${line.trim()}`);
    if (m) paths.push(m[1]!);
  }
  return [...new Set(paths)];
}

/**
 * stageRootfs writes the image's files under context/rootfs: /geecache, its libraries at the paths ldd names,
 * /etc/passwd, /etc/group and an empty /tmp.
 */
export async function stageRootfs(binary: string, context: string): Promise<string[]> {
  const rootfs = join(context, "rootfs");
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  const libs = await sharedLibraries(binary);
  // copyFileSync follows symlinks: each library lands as a real file at the path the loader looks for.
  for (const lib of libs) {
    const to = join(rootfs, lib);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(lib, to);
    chmodSync(to, 0o755);
  }
  copyFileSync(binary, join(rootfs, "geecache"));
  chmodSync(join(rootfs, "geecache"), 0o755);
  writeFileSync(
    join(rootfs, "etc/passwd"),
    `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${IMAGE_UID}:${IMAGE_UID}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  writeFileSync(join(rootfs, "etc/group"), `root:x:0:\nnonroot:x:${IMAGE_UID}:\n`);
  mkdirSync(join(rootfs, "tmp"));
  chmodSync(join(rootfs, "tmp"), 0o1777);
  return libs;
}

/** buildahArgs are buildah's global storage options for opts, to put before a buildah command. */
export function buildahArgs(opts: Pick<ImageOptions, "root" | "runroot" | "storageDriver">): string[] {
  return [
    ...(opts.root ? [`--root=${opts.root}`] : []),
    ...(opts.runroot ? [`--runroot=${opts.runroot}`] : []),
    ...(opts.storageDriver ? [`--storage-driver=${opts.storageDriver}`] : []),
  ];
}

/**
 * run runs a command to completion (killed after STEP_TIMEOUT_MS) and returns its stdout; it throws with its output
 * when it fails.
 */
export async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", timeout: STEP_TIMEOUT_MS, killSignal: "SIGKILL" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code ?? proc.signalCode}:\n${out}${err}`);
  return out;
}

/**
 * ImageFacts are what a built image says about itself: its run settings and the bytes of its layers (uncompressed tar).
 */
export interface ImageFacts {
  user: string;
  entrypoint: string[];
  exposedPorts: string[];
  env: string[];
  size: number;
}

/** inspectImage reads tag's OCI config and manifest from buildah's store. */
export async function inspectImage(opts: Omit<ImageOptions, "context">): Promise<ImageFacts> {
  const info = JSON.parse(await run(["buildah", ...buildahArgs(opts), "inspect", "--type=image", opts.tag]));
  const config = info.OCIv1?.config ?? {};
  const layers: { size: number }[] = JSON.parse(info.Manifest).layers;
  return {
    user: config.User ?? "",
    entrypoint: config.Entrypoint ?? [],
    exposedPorts: Object.keys(config.ExposedPorts ?? {}).sort(),
    env: config.Env ?? [],
    size: layers.reduce((sum, l) => sum + l.size, 0),
  };
}

/**
 * buildImage stages the rootfs (building dist/geecache if missing) and runs `buildah build`; it returns the image id.
 */
export async function buildImage(opts: ImageOptions): Promise<string> {
  if (!Bun.which("buildah"))
    throw new Error("buildah is not installed: apt-get install buildah (Debian), or see .ci/setup.d/buildah.sh");
  if (!existsSync(BINARY)) await run([process.execPath, join(ROOT, "scripts/build.ts")]);
  await stageRootfs(BINARY, opts.context);
  const idFile = join(opts.context, "image-id");
  await run([
    "buildah",
    ...buildahArgs(opts),
    "build",
    "--quiet",
    `--file=${CONTAINERFILE}`,
    `--tag=${opts.tag}`,
    `--iidfile=${idFile}`,
    `--build-arg=VERSION=${pkg.version}`,
    opts.context,
  ]);
  return (await Bun.file(idFile).text()).trim();
}

/** parseArgs reads --name=value options into ImageOptions; it throws on anything else. */
export function parseArgs(argv: string[]): ImageOptions {
  const got: Partial<Record<(typeof OPTIONS)[number], string>> = {};
  for (const arg of argv) {
    const m = arg.match(/^--([a-z-]+)=(.+)$/);
    const name = OPTIONS.find((o) => o === m?.[1]);
    if (!m || !name) throw new TypeError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    got[name] = m[2]!;
  }
  return {
    tag: got.tag ?? DEFAULT_TAG,
    context: resolve(got.context ?? DEFAULT_CONTEXT),
    root: got.root,
    runroot: got.runroot,
    storageDriver: got["storage-driver"],
  };
}

if (import.meta.main) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const started = performance.now();
    const id = await buildImage(opts);
    const { size } = await inspectImage(opts);
    console.log(
      `built ${opts.tag} (${id.slice(0, 19)}), ${(size / 2 ** 20).toFixed(1)} MiB, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
