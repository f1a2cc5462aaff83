// The release: scripts/release.ts builds the binaries and SHA256SUMS, install.sh installs one.
// Only the host's binary and linux-arm64 are built here (each is ~100 MB); GEECACHE_RELEASE_DIR
// points the tests at an existing release instead (e.g. dist/release after `npm run build:release`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { assetName, hostTarget, SUMS_FILE, type Target } from "../scripts/release.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUILD_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 10_000;
const QEMU_TIMEOUT_MS = 60_000;
const TAG = `v${pkg.version}`;

const HOST = await hostTarget();
const HOST_ASSET = HOST && assetName(HOST);
const ARM64_ASSET = assetName("bun-linux-arm64");
const QEMU = Bun.which("qemu-aarch64");
const QEMU_PREFIX = process.env.QEMU_LD_PREFIX || "/usr/aarch64-linux-gnu";
const ARM64_SKIP =
  HOST === "bun-linux-arm64"
    ? undefined
    : !QEMU
      ? "qemu-aarch64 is not on PATH (.ci/setup.d/qemu.sh installs Debian's qemu-user)"
      : !existsSync(join(QEMU_PREFIX, "lib/ld-linux-aarch64.so.1"))
        ? `no arm64 C library in ${QEMU_PREFIX} (Debian's libc6-arm64-cross)`
        : undefined;
if (ARM64_SKIP) console.log(`release.test: skipping the linux-arm64 run: ${ARM64_SKIP}`);
const INSTALL_SKIP = !HOST?.match(/^bun-(linux|darwin)-/)
  ? `install.sh has no binary for ${process.platform}-${process.arch}`
  : undefined;
if (INSTALL_SKIP) console.log(`release.test: skipping install.sh: ${INSTALL_SKIP}`);

let release: string; // the directory of binaries and SHA256SUMS under test
let scratch: string; // temp files of this run, removed at the end

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "geecache-release-test-"));
  if (process.env.GEECACHE_RELEASE_DIR) {
    release = resolve(process.env.GEECACHE_RELEASE_DIR);
    return;
  }
  release = join(scratch, "release");
  const targets = [...new Set<Target>([...(HOST ? [HOST] : []), "bun-linux-arm64"])];
  const proc = Bun.spawn(
    [process.execPath, join(ROOT, "scripts/release.ts"), `--targets=${targets.join(",")}`, `--outdir=${release}`],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`scripts/release.ts exited ${code}:\n${out}${err}`);
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** cleanEnv is the parent's environment without GEECACHE_* (they must not leak into a child), then env on top. */
function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GEECACHE_")) out[k] = v;
  return { ...out, ...env };
}

/** run runs a command to completion (SIGKILL after timeoutMs) and returns its exit code and output. */
async function run(cmd: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}) {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 20_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/**
 * waitForLine resolves with the first match of pattern in the stream's text; it rejects when the stream ends first or
 * after timeoutMs.
 */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const timer = setTimeout(() => void reader.cancel(new Error("timeout")), timeoutMs);
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`no ${pattern} within ${timeoutMs} ms or before the output ended; it was:\n${text}`);
      text += decoder.decode(value, { stream: true });
      const m = text.match(pattern);
      if (m) return m;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

describe("scripts/release.ts", () => {
  test("SHA256SUMS has one sha256sum line per binary, and sha256sum -c accepts it", async () => {
    const binaries = readdirSync(release)
      .filter((f) => f.startsWith("geecache-"))
      .sort();
    const sums = await Bun.file(join(release, SUMS_FILE)).text();
    expect(
      sums
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^[0-9a-f]{64} {2}/, "")),
    ).toEqual(binaries);
    const check = Bun.which("sha256sum") ? ["sha256sum", "-c", SUMS_FILE] : ["shasum", "-a", "256", "-c", SUMS_FILE];
    const r = await run(check, { cwd: release, timeoutMs: 60_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.trim().split("\n")).toEqual(binaries.map((b) => `${b}: OK`));
  }, 120_000); // a full release is ~600 MB to hash

  test.skipIf(!HOST)("the host binary prints package.json's version", async () => {
    const r = await run([join(release, HOST_ASSET!), "--version"], { env: { PATH: "/usr/bin:/bin" } });
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: pkg.version });
  });

  test.skipIf(!HOST)("the host binary serves /api?key=Tom", async () => {
    const proc = Bun.spawn([join(release, HOST_ASSET!), "--port=0", "--host=127.0.0.1", "--source=demo"], {
      env: cleanEnv(),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const [, url] = await waitForLine(proc.stdout, /listening on (http:\/\/[^\s,;]+)/, START_TIMEOUT_MS);
      const res = await fetch(`${url}/api?key=Tom`, { signal: AbortSignal.timeout(START_TIMEOUT_MS) });
      expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: "630" });
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  });

  test.skipIf(ARM64_SKIP !== undefined)(
    "the linux-arm64 binary prints the version under qemu-aarch64",
    async () => {
      const binary = join(release, ARM64_ASSET);
      const cmd = HOST === "bun-linux-arm64" ? [binary, "--version"] : [QEMU!, "-L", QEMU_PREFIX, binary, "--version"];
      const r = await run(cmd, { timeoutMs: QEMU_TIMEOUT_MS });
      expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: pkg.version });
    },
    QEMU_TIMEOUT_MS,
  );
});

/**
 * releaseServer serves the release as GitHub does, at /download/<tag>/<file> and /latest/download/<file>; tamper swaps
 * every binary's bytes.
 */
function releaseServer(options: { tamper?: boolean } = {}) {
  const requested: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      requested.push(path);
      const m = path.match(/^\/(?:download\/([^/]+)|latest\/download)\/([^/]+)$/);
      const file = m?.[2];
      if (
        !m ||
        (m[1] !== undefined && m[1] !== TAG) ||
        !file ||
        file !== basename(file) ||
        !existsSync(join(release, file))
      ) {
        return new Response("Not Found", { status: 404 });
      }
      if (options.tamper && file !== SUMS_FILE) return new Response("#!/bin/sh\necho pwned\n");
      return new Response(Bun.file(join(release, file)));
    },
  });
  return Object.assign(server, { requested });
}

/** fakeUname makes a directory holding a `uname` script with body, to put first on PATH. */
let fakes = 0;
function fakeUname(body: string): string {
  const dir = join(scratch, `fake-uname-${++fakes}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "uname"), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, "uname"), 0o755);
  return dir;
}

/** toolsWithout makes a PATH directory of links to the tools install.sh uses, minus the ones named. */
function toolsWithout(missing: string[]): string {
  const dir = join(scratch, `tools-without-${missing.join("-")}`);
  mkdirSync(dir, { recursive: true });
  const tools = [
    "awk",
    "cat",
    "chmod",
    "cp",
    "curl",
    "cut",
    "grep",
    "ldd",
    "mkdir",
    "mktemp",
    "mv",
    "rm",
    "sha256sum",
    "shasum",
    "tr",
    "uname",
    "wget",
  ];
  for (const tool of tools.filter((t) => !missing.includes(t))) {
    const path = Bun.which(tool);
    if (path && !existsSync(join(dir, tool))) symlinkSync(path, join(dir, tool));
  }
  return dir;
}

let installs = 0;
/**
 * install runs install.sh with sh against a release server; "$DIR" in args and env stands for a new install directory,
 * which it returns.
 */
async function install(server: { url: URL }, args: string[], env: Record<string, string> = {}) {
  const dir = join(scratch, `install-${++installs}`);
  const home = join(scratch, `home-${installs}`);
  mkdirSync(home);
  const r = await run(["/bin/sh", join(ROOT, "install.sh"), ...args.map((a) => a.replaceAll("$DIR", dir))], {
    env: {
      HOME: home,
      NO_PROXY: "127.0.0.1",
      no_proxy: "127.0.0.1",
      GEECACHE_BASE_URL: server.url.origin,
      ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll("$DIR", dir)])),
    },
    timeoutMs: 60_000,
  });
  return { ...r, dir };
}

const HAS_WGET_AND_SHASUM = Bun.which("wget") !== null && Bun.which("shasum") !== null;
if (!HAS_WGET_AND_SHASUM)
  console.log("release.test: skipping install.sh with wget and shasum: one of them is not installed");

describe.skipIf(INSTALL_SKIP !== undefined)("install.sh", () => {
  test.each<[string, string[], Record<string, string>, string]>([
    ["latest, with --dir", ["--dir", "$DIR"], {}, `/latest/download/${HOST_ASSET}`],
    ["--version TAG", ["--version", TAG, "--dir=$DIR"], {}, `/download/${TAG}/${HOST_ASSET}`],
    [
      "GEECACHE_VERSION without the v, GEECACHE_INSTALL_DIR",
      [],
      { GEECACHE_VERSION: pkg.version, GEECACHE_INSTALL_DIR: "$DIR" },
      `/download/${TAG}/${HOST_ASSET}`,
    ],
    ...(HAS_WGET_AND_SHASUM
      ? [
          [
            "wget and shasum, without curl and sha256sum",
            ["--dir", "$DIR"],
            { PATH: "$NO_CURL" },
            `/latest/download/${HOST_ASSET}`,
          ] as [string, string[], Record<string, string>, string],
        ]
      : []),
  ])("installs the checked binary: %s", async (_, args, env, assetPath) => {
    using server = releaseServer();
    if (env.PATH === "$NO_CURL") env = { ...env, PATH: toolsWithout(["curl", "sha256sum"]) };
    const r = await install(server, args, env);
    const installed = join(r.dir, "geecache");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`installed geecache ${pkg.version} to ${installed}\n`);
    expect(server.requested.sort()).toEqual([assetPath, assetPath.replace(HOST_ASSET!, SUMS_FILE)].sort());
    const v = await run([installed, "--version"]);
    expect({ code: v.code, stdout: v.stdout.trim() }).toEqual({ code: 0, stdout: pkg.version });
  });

  test("a tampered binary is not installed: checksum mismatch", async () => {
    using server = releaseServer({ tamper: true });
    const r = await install(server, ["--dir", "$DIR"]);
    const expected = (await Bun.file(join(release, SUMS_FILE)).text()).match(
      new RegExp(`^([0-9a-f]{64})  ${HOST_ASSET}$`, "m"),
    )?.[1];
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`checksum mismatch for ${HOST_ASSET}: expected ${expected}, got `);
    expect(existsSync(join(r.dir, "geecache"))).toBe(false);
  });

  test.each<[string, string[], string | undefined, string]>([
    ["a release that does not exist", ["--version", "v0.0.0-nope"], undefined, "download failed: "],
    ["an unsupported OS (SunOS)", [], "echo SunOS", "unsupported platform: SunOS"],
    [
      "an unsupported CPU (riscv64)",
      [],
      'case "$1" in -m) echo riscv64 ;; *) echo Linux ;; esac',
      "unsupported platform: Linux riscv64",
    ],
    ["an unknown argument", ["--frobnicate"], undefined, "unknown argument --frobnicate"],
  ])("fails with a clear message on %s", async (_, args, uname, message) => {
    using server = releaseServer();
    const r = await install(
      server,
      ["--dir", "$DIR", ...args],
      uname ? { PATH: `${fakeUname(uname)}:${process.env.PATH}` } : {},
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(r.dir, "geecache"))).toBe(false);
  });
});
