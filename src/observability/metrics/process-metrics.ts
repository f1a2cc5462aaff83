import { readdirSync, readFileSync } from "node:fs";
import pkg from "../../../package.json" with { type: "json" };
import { type Exposition, formatLabels } from "./prometheus.ts";

/** ProcessReading is one scrape's look at the process; a field the system does not show is undefined. */
export interface ProcessReading {
  residentBytes: number;
  virtualBytes?: number;
  /** heapBytes is the JavaScript heap (not VmData: Bun's reservations make that gigabytes of nothing). */
  heapBytes: number;
  cpuSeconds: number;
  openFds?: number;
  maxFds?: number;
}

/** BuildInfo is what geecache_build_info labels: the geecache version and the Bun runtime inside it. */
export interface BuildInfo {
  version: string;
  bun: string;
}

/** BUILD_INFO is this build's: the package version and Bun's. */
export const BUILD_INFO: BuildInfo = { version: pkg.version, bun: Bun.version };

/**
 * readProcess reads the process's figures where Prometheus clients read them: /proc/self (Linux)
 * for memory as the kernel counts it and the open descriptors, else what the runtime tells.
 */
export function readProcess(): ProcessReading {
  const cpu = process.cpuUsage();
  const out: ProcessReading = {
    residentBytes: process.memoryUsage.rss(),
    heapBytes: process.memoryUsage().heapTotal,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kib = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    out.residentBytes = kib("VmRSS") ?? out.residentBytes;
    out.virtualBytes = kib("VmSize");
    out.openFds = readdirSync("/proc/self/fd").length - 1; // less the descriptor that read the folder
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (limit) out.maxFds = Number(limit[1]);
  } catch {
    // not Linux, or /proc not mounted: the runtime's figures stand
  }
  return out;
}

/**
 * writeProcessMetrics writes the process series under the names every Prometheus client uses
 * (process_*: resident, virtual and heap memory, CPU seconds, start time, open and maximum file
 * descriptors where readable) and geecache_build_info{version, bun} 1.
 */
export function writeProcessMetrics(out: Exposition, startedAtMs: number, p: ProcessReading, build: BuildInfo): void {
  const gauge = (name: string, help: string, value: number | undefined, type: "gauge" | "counter" = "gauge") => {
    if (value !== undefined) out.family(name, type, help).sample(name, "", value);
  };
  gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", p.cpuSeconds, "counter");
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", startedAtMs / 1000);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", p.residentBytes);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", p.virtualBytes);
  gauge("process_heap_bytes", "Process heap size in bytes.", p.heapBytes);
  gauge("process_open_fds", "Number of open file descriptors.", p.openFds);
  gauge("process_max_fds", "Maximum number of open file descriptors.", p.maxFds);
  out
    .family("geecache_build_info", "gauge", "Always 1: the geecache version and the Bun runtime it runs on, as labels.")
    .sample("geecache_build_info", formatLabels(["version", "bun"], [build.version, build.bun]), 1);
}
