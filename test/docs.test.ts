// The README and docs/ stay true: the flag table is what scripts/flags-doc.ts prints and lists every
// flag of `geecache --help`; no internal history leaks into them; their links resolve; and every
// example marked runnable runs against real processes of dist/geecache.
//
// A ```sh or ```toml block is runnable when the line above it is `<!-- run -->` (fields:
// `file=NAME` writes the block to NAME in the file's directory instead of running it, for the
// examples after it; `needs=a,b` names commands besides bash and curl that it needs, and the
// block is skipped, saying so, without them). The blocks of one markdown file run in order in one
// temporary directory, where `./dist/geecache` and `geecache` are the built binary and `bun` is
// this Bun. Ports 8001-8009, 9001-9009 and 9999 are replaced by free ones, the same all through
// the file; the defaults --port and --api-port are set to those of 8001 and 9999 through
// GEECACHE_PORT and GEECACHE_API_PORT, and GEECACHE_DRAIN=0 makes stops quick. A comment after a
// command is its expected output (see test/helpers/doc-examples.ts for the rules).
//
// Left unmarked, because they cannot run here: the set-up commands (`npm ci` would reinstall this
// checkout), the install commands of docs/install.md (they download releases from GitHub), the
// container image (`npm run image`, then podman) and `kubectl apply` (a cluster), grpcurl and
// protoc (not installed, and protoc needs Go plugins), the PostgreSQL and remote-origin
// `--source` lines (a server), the drain example (its 503 is a race against the signal), the
// benchmarks and the chaos suite (minutes of load, and never timed tests), and the TypeScript of
// docs/library.md (code to read, not commands).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { blocks, commands, EXAMPLE_PORT, script, shows } from "./helpers/doc-examples.ts";
import { childEnv, requireBinary, runCli } from "./helpers/process.ts";

const ROOT = resolve(import.meta.dir, "..");
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const BLOCK_TIMEOUT_MS = 30_000;

describe("docs/flags.md", () => {
  test("is what scripts/flags-doc.ts prints (run `bun scripts/flags-doc.ts > docs/flags.md`)", async () => {
    const proc = Bun.spawn([process.execPath, "scripts/flags-doc.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [printed, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(read("docs/flags.md")).toBe(printed);
  });

  test("lists every flag of dist/geecache --help", async () => {
    const help = await runCli(["--help"]);
    const flags = [...help.stdout.matchAll(/^ {2}--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(10);
    const table = read("docs/flags.md");
    expect(flags.filter((f) => !table.includes(`| \`--${f}\``))).toEqual([]);
  });
});

describe("README.md and docs/", () => {
  test("README.md is a front door: at most 250 lines", () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(250);
  });

  test("name no issue numbers or internal history", () => {
    const history = /\bissues? #?\d+|#\d{2,}\b|an earlier stop/i;
    const found = DOCS.flatMap((f) =>
      read(f)
        .split("\n")
        .flatMap((l, i) => (history.test(l) ? [`${f}:${i + 1}: ${l.trim()}`] : [])),
    );
    expect(found).toEqual([]);
  });

  test("link to files and headings that exist", () => {
    const broken: string[] = [];
    for (const f of DOCS) {
      for (const [, target] of read(f).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split("#", 2) as [string, string | undefined];
        const file = path === "" ? f : join(dirname(f), path);
        let text: string;
        try {
          text = read(file);
        } catch {
          broken.push(`${f}: ${target} (no such file)`);
          continue;
        }
        if (anchor && !headings(text).has(anchor)) broken.push(`${f}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** headings are the anchors GitHub gives a markdown file's headings. */
function headings(markdown: string): Set<string> {
  const slug = (h: string) =>
    h
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replaceAll(" ", "-");
  return new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.trim())));
}

for (const file of DOCS) {
  const runnable = blocks(read(file)).filter((b) => b.run && (b.lang === "sh" || b.lang === "toml"));
  if (runnable.length === 0) continue;
  describe(`examples of ${file}`, () => {
    let dir = "";
    const ports = new Map<string, string>();
    const port = (p: string) =>
      ports.get(p) ?? (ports.set(p, String(freePort(new Set(ports.values())))), ports.get(p)!);
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "geecache-docs-"));
      mkdirSync(join(dir, "dist"));
      mkdirSync(join(dir, "bin"));
      symlinkSync(requireBinary(), join(dir, "dist/geecache"));
      symlinkSync(requireBinary(), join(dir, "bin/geecache"));
      writeFileSync(join(dir, ".curlrc"), "no-progress-meter\n"); // keeps a failure's stderr readable
      for (const b of runnable)
        if (b.run!.file) writeFileSync(join(dir, b.run!.file), b.text.replace(EXAMPLE_PORT, port));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const block of runnable) {
      const needs = ["bash", ...(block.lang === "sh" ? ["curl"] : []), ...(block.run!.needs?.split(",") ?? [])];
      const missing = needs.filter((c) => !Bun.which(c));
      const name = `${file}:${block.line} ${block.text.split("\n")[0]}`;
      if (block.lang === "toml") {
        test(`${name} is written to a file that a later example uses`, () => {
          const later = runnable.filter((b) => b.line > block.line && b.lang === "sh");
          expect(block.run!.file !== undefined && later.some((b) => b.text.includes(block.run!.file!))).toBe(true);
          expect(runnable.filter((b) => b.run!.file === block.run!.file).length).toBe(1);
        });
        continue;
      }
      test.skipIf(missing.length > 0)(
        missing.length > 0 ? `${name} (skipped: ${missing.join(", ")} not installed)` : name,
        async () => {
          const cmds = commands(block.text.replace(EXAMPLE_PORT, port));
          const out = mkdtempSync(join(dir, "out-"));
          const proc = Bun.spawn(["bash", "-c", script(cmds)], {
            cwd: dir,
            detached: true,
            stdin: "ignore",
            stdout: "ignore",
            stderr: "pipe",
            env: childEnv({
              OUT: out,
              CURL_HOME: dir,
              PATH: `${join(dir, "bin")}:${dirname(process.execPath)}:${process.env.PATH}`,
              GEECACHE_PORT: port("8001"),
              GEECACHE_API_PORT: port("9999"),
              GEECACHE_DRAIN: "0",
            }),
          });
          const kill = () => process.kill(-proc.pid, "SIGKILL");
          const timer = setTimeout(kill, BLOCK_TIMEOUT_MS - 2000);
          process.once("exit", kill);
          const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
          clearTimeout(timer);
          process.off("exit", kill);
          const stepFile = join(out, "step");
          const step = existsSync(stepFile) ? Number(readFileSync(stepFile, "utf8")) : -1;
          const failed = code === 0 ? undefined : { command: cmds[step]?.code, stderr };
          expect({ code, failed }).toEqual({ code: 0, failed: undefined });
          const wrong = cmds.flatMap((c, n) => {
            if (c.expected === undefined) return [];
            const output = readFileSync(join(out, `${n}.${c.background ? "log" : "out"}`), "utf8");
            return shows(output, c.expected, c.background) ? [] : [{ command: c.code, expected: c.expected, output }];
          });
          expect(wrong).toEqual([]);
        },
        BLOCK_TIMEOUT_MS,
      );
    }
  });
}

/** freePort is a TCP port that was free a moment ago on 127.0.0.1, not one of taken. */
function freePort(taken: ReadonlySet<string>): number {
  for (;;) {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const p = listener.port;
    listener.stop(true);
    if (!taken.has(String(p))) return p;
  }
}
