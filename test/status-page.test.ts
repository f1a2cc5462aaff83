// The status page in a real browser (Debian's chromium through playwright-core), served by a
// three-node cluster of dist/geecache processes; also checks that --log-format=json logs JSON lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { httpTransport, PeerSet } from "../src/index.ts";
import { type ProcessCluster, type RunningNode, requireBinary, spawnCluster } from "./helpers/process.ts";

/** document is the page's, inside page.evaluate and waitForFunction (the project's tsconfig has no DOM lib). */
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = resolve(import.meta.dir, "../test-output/status-page.png");
const BROWSER_TIMEOUT_MS = 15_000;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(
    `skipping the status page test: ${CHROMIUM} is missing (Debian package chromium; .ci/setup.d/observability.sh installs it)`,
  );

describe.skipIf(!haveChromium)("the status page of a three-node cluster", () => {
  let cluster: ProcessCluster | undefined;
  let api: RunningNode; // started with --api, and with --log-format=json --log-level=debug
  let peers: string[];
  let owner: (key: string) => string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    requireBinary();
    cluster = await spawnCluster(3, (i) =>
      i === 0 ? ["--api", "--api-port=0", "--log-format=json", "--log-level=debug"] : [],
    );
    api = cluster.nodes[0]!;
    peers = cluster.urls;
    const ring = new PeerSet({ self: peers[0]!, transports: [httpTransport()] });
    ring.setPeers(peers);
    owner = (key) => ring.owner(key);

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
      viewport: { width: 1200, height: 900 },
      timeout: BROWSER_TIMEOUT_MS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on(
      "console",
      (msg) => void (msg.type() === "error" && pageErrors.push(`${msg.text()} ${msg.location().url}`)),
    );
    page.on("request", (req) => void (!req.url().startsWith(`${api.apiUrl}/`) && foreignRequests.push(req.url())));
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
    await cluster?.stop();
  });

  const lookup = async (key: string) => {
    await page.fill("#key", key);
    await page.click("button[type=submit]");
    await page.waitForFunction((k) => document.querySelector("#lookup-key")?.textContent === k, key);
    const text = (sel: string) => page.evaluate((s) => document.querySelector(s)?.textContent?.trim(), sel);
    return {
      owner: await text("#lookup-owner"),
      here: await text("#lookup-cache"),
      atOwner: await text("#lookup-owner-cache"),
      value: await text("#lookup-value"),
    };
  };

  test("shows the cluster, looks up keys with their owner and value, and is saved as a screenshot", async () => {
    await page.goto(`${api.apiUrl}/`);
    await page.waitForFunction(() => document.querySelectorAll("#peers tr").length === 3);
    expect(await page.locator("#self").textContent()).toBe(peers[0]!);
    expect(await page.locator("#ready").textContent()).toBe("ready");
    const rows = await page
      .locator("#peers tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim())));
    expect(rows.map((r) => [r[0], r[3]]).sort()).toEqual(
      peers.map((p) => [p, p === peers[0] ? "this node" : "up"]).sort(),
    );

    // A lookup only peeks: Tom is cached nowhere until a get loads it on its owner; no lookup counts as a get.
    const gets = async () =>
      ((await (await fetch(`${api.apiUrl}/stats`)).json()) as { groups: { scores: { stats: { gets: number } } } })
        .groups.scores.stats.gets;
    const atOwner = (key: string, cached: string) => (owner(key) === peers[0] ? undefined : cached);
    const before = await gets();
    expect(await lookup("Tom")).toEqual({
      owner: owner("Tom"),
      here: "not cached",
      atOwner: atOwner("Tom", "not cached"),
      value: undefined,
    });
    expect(await gets()).toBe(before);
    await (await fetch(`${api.apiUrl}/api?key=Tom`)).arrayBuffer();
    const after = await gets();
    const tom = await lookup("Tom");
    expect(tom).toEqual(
      owner("Tom") === peers[0]
        ? { owner: peers[0], here: "main", atOwner: undefined, value: "630" }
        : { owner: owner("Tom"), here: expect.stringMatching(/^(hot|not cached)$/), atOwner: "main", value: "630" },
    );
    expect(await lookup("nobody")).toEqual({
      owner: owner("nobody"),
      here: "not cached",
      atOwner: atOwner("nobody", "not cached"),
      value: undefined,
    });
    expect(await gets()).toBe(after);

    // The groups panel and the chart render from /status.json.
    await page.waitForFunction(() =>
      /of \d+ gets came from memory/.test(document.querySelector("#groups")?.textContent ?? ""),
    );
    // Traffic until the chart has drawn a line of at least two samples (one every 2 s).
    let traffic = true;
    const load = (async () => {
      for (let i = 0; traffic; i++)
        await (await fetch(`${api.apiUrl}/api?key=${["Tom", "Jack", "Sam", `nobody-${i}`][i % 4]}`)).arrayBuffer();
    })();
    try {
      await page.waitForFunction(
        () =>
          document.querySelectorAll("#chart polyline").length === 2 &&
          document.querySelectorAll("#chart text").length >= 5,
      );
    } finally {
      traffic = false;
      await load;
    }
    await lookup("Tom");
    // Cluster totals: every node answers, and the gets of all three add up.
    await page.waitForFunction(
      () =>
        document.querySelector("#totals-nodes")?.textContent === "3 of 3" &&
        Number(document.querySelector("#totals-gets")?.textContent) > 0,
    );
    mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect({ pageErrors, foreignRequests }).toEqual({ pageErrors: [], foreignRequests: [] });
  }, 60_000);

  test("the main port serves the same page", async () => {
    const res = await fetch(`${cluster!.nodes[1]!.url}/`);
    expect({
      status: res.status,
      type: res.headers.get("content-type"),
      title: (await res.text()).match(/<title>(.*)<\/title>/)?.[1],
    }).toEqual({
      status: 200,
      type: "text/html; charset=utf-8",
      title: "geecache node status",
    });
  });

  test("--log-format=json writes every log line, debug loads included, as one JSON object", async () => {
    const own = ["Tom", "Jack", "Sam", ...Array.from({ length: 30 }, (_, i) => `k${i}`)]
      .filter((k) => owner(k) === peers[0])
      .slice(0, 2);
    for (const key of own) await (await fetch(`${api.apiUrl}/api?key=${key}&group=scores`)).arrayBuffer();
    await api.stop();
    const lines = api.stdout.text.split("\n").filter((l) => l !== "");
    const parsed = lines.map((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        return {
          keys: Object.keys(o)
            .filter((k) => k !== "fields")
            .sort(),
          level: typeof o.level,
        };
      } catch {
        return { bad: l };
      }
    });
    expect(parsed).toEqual(lines.map(() => ({ keys: ["level", "message", "tag", "time"], level: "string" })));
    expect(lines.some((l) => l.includes("listening on"))).toBe(true);
    expect(lines.filter((l) => l.includes("load ")).length).toBeGreaterThanOrEqual(own.length > 0 ? 1 : 0);
  });
});
