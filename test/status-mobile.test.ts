// The status page at a phone's width (390 px) in Chromium, served by three dist/geecache processes
// of which one was killed: the cluster totals count the two that answer and name the third, the
// down peer is shown, and no element spills out sideways. Saved as test-output/status-page-390.png.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { httpTransport, PeerSet } from "../src/index.ts";
import { keysOwnedBy } from "./helpers/owned-keys.ts";
import { type ProcessCluster, requireBinary, spawnCluster } from "./helpers/process.ts";

/**
 * document and window are the page's, inside page.evaluate and waitForFunction (the project's tsconfig has no DOM lib).
 */
declare const document: {
  documentElement: { scrollWidth: number };
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{
    tagName: string;
    id: string;
    className: string;
    getBoundingClientRect(): { right: number; width: number };
  }>;
};

const CHROMIUM = "/usr/bin/chromium";
const WIDTH = 390;
const SCREENSHOT = resolve(import.meta.dir, "../test-output/status-page-390.png");
const BROWSER_TIMEOUT_MS = 15_000;
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)(`the status page at ${WIDTH} px`, () => {
  let cluster: ProcessCluster | undefined;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBinary();
    cluster = await spawnCluster(3);
    profile = mkdtempSync(join(tmpdir(), "geecache-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: WIDTH, height: 844 },
      deviceScaleFactor: 1,
      timeout: BROWSER_TIMEOUT_MS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
    page.on("pageerror", (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
    await cluster?.stop();
  });

  test("totals, a down peer and a lookup fit the width", async () => {
    const [a, , c] = cluster!.nodes;
    const ring = new PeerSet({ self: a!.self, transports: [httpTransport()] });
    ring.setPeers(cluster!.urls);
    for (const key of ["Tom", "Jack", "Sam", "Tom"]) await (await fetch(`${a!.url}/api?key=${key}`)).arrayBuffer();
    // Kill the third node, then ask node 0 for its keys until node 0 marks it down.
    await c!.stop("SIGKILL");
    const cKeys = keysOwnedBy(ring, c!.self, 4, "k");
    const downs = async () => ((await (await fetch(`${a!.url}/stats`)).json()) as { down: string[] }).down;
    for (let i = 0; i < 50 && !(await downs()).includes(c!.self); i++)
      await (await fetch(`${a!.url}/api?key=${cKeys[i % cKeys.length]}`)).arrayBuffer();
    expect(await downs()).toEqual([c!.self]);

    await page.goto(`${a!.url}/`);
    await page.waitForFunction(() => document.querySelector("#totals-nodes")?.textContent === "2 of 3");
    await page.waitForFunction(() => /^Down: /.test(document.querySelector("#membership")?.textContent ?? ""));
    expect(await page.locator("#totals-note").textContent()).toContain(c!.self);
    expect(Number(await page.locator("#totals-gets").textContent())).toBeGreaterThanOrEqual(4);
    const long = `a-rather-long-key-${"x".repeat(90)}`;
    await page.fill("#key", long);
    await page.click("button[type=submit]");
    await page.waitForFunction((k) => document.querySelector("#lookup-key")?.textContent === k, long);

    const overflow = await page.evaluate((w) => {
      const wide = [
        ...(document.querySelectorAll("body *") as unknown as Array<{
          tagName: string;
          id: string;
          className: string;
          getBoundingClientRect(): { right: number; width: number };
        }>),
      ]
        .filter((e) => e.getBoundingClientRect().right > w + 0.5)
        .map(
          (e) =>
            `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${e.className && typeof e.className === "string" ? `.${e.className}` : ""}`,
        );
      return { scrollWidth: document.documentElement.scrollWidth, wide };
    }, WIDTH);
    mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(overflow).toEqual({ scrollWidth: WIDTH, wide: [] });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
