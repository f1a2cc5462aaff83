#!/usr/bin/env bun
import { isMainThread, workerData } from "node:worker_threads";
import { defineCommand } from "citty";
import pkg from "../../package.json" with { type: "json" };
import { errorMessage } from "../core/errors.ts";
import { optionName } from "../core/settings.ts";
import { createNode } from "../node/create-node.ts";
import type { WorkerInit } from "../node/workers/messages.ts";
import { runWorker } from "../node/workers/worker.ts";
import { createLogger } from "../observability/log.ts";
import { type Config, resolveConfig } from "./config.ts";
import { cittyArgs, FLAGS } from "./flags.ts";
import { runCli } from "./run.ts";

const command = defineCommand({
  meta: {
    name: "geecache",
    version: pkg.version,
    description:
      "A distributed in-memory cache node. Every flag can also be set as GEECACHE_<FLAG> (e.g. GEECACHE_CACHE_BYTES=1GiB); --help prints this, --version the version.",
  },
  args: cittyArgs(),
  run: ({ args }) => main(args as Record<string, unknown>),
});

/** main turns flags into a node's settings, starts the node, and stops it on SIGINT or SIGTERM. */
async function main(args: Record<string, unknown>): Promise<void> {
  let config: Config;
  try {
    config = resolveConfig(args);
  } catch (err) {
    fail(2, errorMessage(err));
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config) });
  let node: Awaited<ReturnType<typeof createNode>>;
  try {
    node = await createNode(config, { log, workerEntry: import.meta.url }); // --workers: threads run this file too
  } catch (err) {
    fail(2, errorMessage(err));
  }
  const stop = (signal: string) =>
    void node.stop(signal).then(() => {
      log.info(`${signal}: exiting with code 0`, { signal, phase: "exit", status: 0 });
      process.exit(0);
    });
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** secretsOf lists what the log must never show: secret settings and the sources' passwords. */
function secretsOf(config: Config): string[] {
  const values = config as unknown as Record<string, unknown>;
  const out = Object.values(FLAGS)
    .filter((s) => s.secret)
    .map((s) => values[optionName(s)])
    .filter((v): v is string => typeof v === "string" && v !== "");
  for (const g of config.groups) {
    const password = URL.canParse(g.source) ? new URL(g.source).password : "";
    if (!password) continue;
    out.push(password);
    try {
      out.push(decodeURIComponent(password));
    } catch {
      // a password that is not percent-encoded: its raw form is listed
    }
  }
  return out;
}

function fail(code: number, message: string): never {
  process.stderr.write(`geecache: ${message}\n`);
  process.exit(code);
}

// A worker thread of a node on several workers (--workers) serves its ports; the main thread is the node.
if (!isMainThread && (workerData as WorkerInit | undefined)?.geecacheWorker) runWorker(workerData as WorkerInit);
else
  await runCli(command, { name: "geecache", version: pkg.version, description: "A distributed in-memory cache node." });
