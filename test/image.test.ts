// The container image: scripts/image.ts builds it with buildah into a private store, then the test
// mounts the image's root file system read-only and runs its entry point there with chroot, as the
// image's non-root user, with only /proc and /dev mounted in: if a library or file were missing
// from the image, the binary would not start. (No container engine can run containers here.)
// Everything it makes (store, container, mounts, image) is removed in afterAll, also on failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  buildahArgs,
  buildImage,
  IMAGE_UID,
  type ImageFacts,
  type ImageOptions,
  inspectImage,
  run,
  sharedLibraries,
} from "../scripts/image.ts";
import { Captured } from "./helpers/captured.ts";
import { BINARY, childEnv, requireBinary, START_TIMEOUT_MS } from "./helpers/process.ts";

const BUILD_TIMEOUT_MS = 180_000;
const RUN_TIMEOUT_MS = 30_000;

const SKIP =
  process.platform !== "linux"
    ? `chroot and mount are Linux tools (this is ${process.platform})`
    : !Bun.which("buildah")
      ? "buildah is not installed (.ci/setup.d/buildah.sh installs Debian's package)"
      : process.getuid?.() !== 0
        ? "mounting the image and chroot need root"
        : !Bun.which("chroot") || !Bun.which("mount")
          ? "chroot or mount is missing"
          : undefined;
if (SKIP) console.log(`image.test: skipping: ${SKIP}`);

let scratch: string; // this run's store, build context and mount points
let opts: ImageOptions;
let facts: ImageFacts;
let imageRoot: string; // the working container's root file system (buildah mount)
let readOnlyRoot: string; // the same, bind-mounted read-only, with /proc and /dev inside
const undo: (() => Promise<unknown>)[] = []; // cleanups, run last-in first-out

/** mount runs mount(8) with args and pushes the matching umount onto undo. */
async function mount(args: string[], target: string): Promise<void> {
  await run(["mount", ...args, target]);
  undo.push(() => run(["umount", target]).catch(() => run(["umount", "--lazy", target])));
}

/** changeMount runs mount(8) on a mount already made (remount, propagation), which needs no umount of its own. */
async function changeMount(args: string[], target: string): Promise<void> {
  await run(["mount", ...args, target]);
}

describe.skipIf(SKIP !== undefined)("container image", () => {
  beforeAll(async () => {
    requireBinary();
    scratch = mkdtempSync(join(tmpdir(), "geecache-image-test-"));
    undo.push(async () => rmSync(scratch, { recursive: true, force: true }));
    opts = {
      tag: `localhost/geecache-image-test:${process.pid}`,
      context: join(scratch, "context"),
      root: join(scratch, "storage"),
      runroot: join(scratch, "run"),
      storageDriver: "vfs", // plain folders: works in any file system and leaves no mount behind
    };
    const buildah = ["buildah", ...buildahArgs(opts)];
    // Registered first so it runs after the container is gone; harmless if the build failed.
    undo.push(() => run([...buildah, "rmi", "--all", "--force"]));
    const started = performance.now();
    await buildImage(opts);
    facts = await inspectImage(opts);
    console.log(
      `image.test: built ${opts.tag} in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(facts.size / 2 ** 20).toFixed(1)} MiB`,
    );

    const container = (await run([...buildah, "from", "--pull-never", opts.tag])).trim();
    undo.push(() => run([...buildah, "rm", container]));
    imageRoot = (await run([...buildah, "mount", container])).trim();
    undo.push(() => run([...buildah, "umount", container]));

    readOnlyRoot = join(scratch, "chroot");
    mkdirSync(readOnlyRoot);
    for (const dir of ["proc", "dev"]) mkdirSync(join(imageRoot, dir)); // in the container's layer, not the image
    await mount(["--bind", imageRoot], readOnlyRoot);
    await changeMount(["--make-private"], readOnlyRoot); // so /proc and /dev below never show up in imageRoot
    await changeMount(["-o", "remount,bind,ro"], readOnlyRoot); // as readOnlyRootFilesystem in deploy/kubernetes
    await mount(["-t", "proc", "proc"], join(readOnlyRoot, "proc")); // the binary reads itself through /proc/self/exe
    await mount(["--bind", "/dev"], join(readOnlyRoot, "dev"));
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    const failures: unknown[] = [];
    for (const step of undo.splice(0).reverse()) await step().catch((err) => failures.push(err));
    if (failures.length) throw new AggregateError(failures, `image.test: ${failures.length} cleanup step(s) failed`);
  }, BUILD_TIMEOUT_MS);

  test("runs /geecache as a non-root user, listening on every interface, with the ports documented", () => {
    expect({
      user: facts.user,
      entrypoint: facts.entrypoint,
      ports: facts.exposedPorts,
      host: facts.env.find((e) => e.startsWith("GEECACHE_HOST=")),
    }).toEqual({
      user: `${IMAGE_UID}:${IMAGE_UID}`,
      entrypoint: ["/geecache"],
      ports: ["8001/tcp", "9001/tcp", "9999/tcp"],
      host: "GEECACHE_HOST=0.0.0.0",
    });
  });

  test("holds the binary, exactly the libraries ldd names, and the user's passwd entry", async () => {
    const files = (readdirSync(imageRoot, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
      .filter((d) => !d.isDirectory())
      .map((d) => `/${relative(imageRoot, join(d.parentPath, d.name))}`)
      .sort();
    const libs = await sharedLibraries(BINARY);
    expect(libs.length).toBeGreaterThan(0); // a dynamic binary: glibc and its loader must be in the image
    expect(files).toEqual(["/etc/group", "/etc/passwd", "/geecache", ...libs].sort());
    expect(await Bun.file(join(imageRoot, "etc/passwd")).text()).toContain(`:${IMAGE_UID}:${IMAGE_UID}:`);
  });

  test(
    "the binary, run from the image's read-only files with chroot, answers /api?key=Tom with 630",
    async () => {
      const env = Object.fromEntries(facts.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
      // --host keeps the test on loopback (the image says 0.0.0.0); SIGINT stops at once (SIGTERM would drain first).
      const proc = Bun.spawn(
        [
          "chroot",
          `--userspec=${IMAGE_UID}:${IMAGE_UID}`,
          readOnlyRoot,
          ...facts.entrypoint,
          "--port=0",
          "--host=127.0.0.1",
        ],
        {
          env: { ...childEnv(), ...env },
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
          timeout: RUN_TIMEOUT_MS,
          killSignal: "SIGKILL",
        },
      );
      const stdout = new Captured(proc.stdout);
      const stderr = new Captured(proc.stderr);
      try {
        const [, url] = await stdout
          .wait(/listening on (http:\/\/127\.0\.0\.1:\d+)/, START_TIMEOUT_MS * 2)
          .catch((err) => {
            throw new Error(`the image's binary did not start; stderr: ${stderr.text.trim() || "(empty)"}`, {
              cause: err,
            });
          });
        const res = await fetch(`${url}/api?key=Tom`);
        expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: "630" });
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status).toBe(200);
        const owner = Bun.spawnSync(["stat", "-c", "%u", `/proc/${proc.pid}`])
          .stdout.toString()
          .trim();
        expect(owner).toBe(String(IMAGE_UID)); // chroot exec'd the binary as the image's user
        proc.kill("SIGINT");
        expect(await proc.exited).toBe(0);
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
        await proc.exited;
        await Promise.all([stdout.done, stderr.done]);
      }
    },
    RUN_TIMEOUT_MS + START_TIMEOUT_MS * 2,
  );
});
