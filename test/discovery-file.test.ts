// The discovery conformance suite (test/discovery.cases.ts) against fileDiscovery and a real peers
// file in a temporary directory, written whole (a new file renamed over the old) as a config
// manager does, so no read sees half a write.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileDiscovery } from "../src/cluster/file-discovery.ts";
import { discoveryCases } from "./discovery.cases.ts";

/** INTERVAL (ms) is how often the file is read: the cases wait on what they expect, polling every 5 ms. */
const INTERVAL = 10;

discoveryCases({
  name: "file",
  async open(urls) {
    const dir = mkdtempSync(join(tmpdir(), "geecache-discovery-"));
    const path = join(dir, "peers");
    const write = (list: readonly string[]) => {
      writeFileSync(`${path}.new`, `${list.join("\n")}\n`);
      renameSync(`${path}.new`, path);
    };
    write(urls);
    const events: string[] = [];
    return {
      discovery: fileDiscovery({ path, interval: INTERVAL, onError: (m) => events.push(m) }),
      events,
      show: async (list) => write(list),
      fail: async () => rmSync(path),
      [Symbol.asyncDispose]: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  // An operator empties the file to leave a node alone; test/helpers/process.ts starts nodes with empty files.
  empty: "applied",
  skip: {
    flap:
      "the file's reads run on a timer and cannot be counted from outside; and a peers file changes only when " +
      "someone writes it, so each change read is applied at once (there is no two-reads rule to test)",
  },
});
