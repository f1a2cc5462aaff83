import { readFileSync } from "node:fs";

/** MAX_WORKERS bounds --workers: more threads than this only add contention. */
export const MAX_WORKERS = 256;

/**
 * usableCores is how many cores this process may use: the CPUs of its affinity mask (taskset, a container's cpuset)
 * and, when lower, its cgroup CPU quota rounded up (a Kubernetes CPU limit); the machine's count where neither can be
 * read. Paths are parameters for the tests.
 */
export function usableCores(
  paths = {
    status: "/proc/self/status",
    cpuMax: "/sys/fs/cgroup/cpu.max",
    quota: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
  },
): number {
  let n = navigator.hardwareConcurrency || 1;
  const allowed = read(paths.status)?.match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
  if (allowed) n = Math.min(n, cpuListSize(allowed) || n);
  const quota = cgroupQuota(read(paths.cpuMax), read(paths.quota), read(paths.quota.replace("quota", "period")));
  if (quota !== undefined) n = Math.min(n, Math.max(1, Math.ceil(quota)));
  return Math.max(1, Math.min(MAX_WORKERS, n));
}

/** cpuListSize counts the CPUs of a list such as "0-3,6,8-9" (0 when it cannot be read). */
export function cpuListSize(list: string): number {
  let n = 0;
  for (const part of list.trim().split(",")) {
    const m = part.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) return 0;
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/**
 * cgroupQuota is the CPU quota in cores: cgroup v2's cpu.max ("200000 100000"; "max" = none), else cgroup v1's
 * cfs_quota_us / cfs_period_us (-1 = none); undefined when there is none.
 */
export function cgroupQuota(
  cpuMax: string | undefined,
  v1Quota: string | undefined,
  v1Period: string | undefined,
): number | undefined {
  if (cpuMax !== undefined) {
    const [q, p] = cpuMax.trim().split(/\s+/);
    return q === "max" || !q || !p || !(Number(p) > 0) || !(Number(q) > 0) ? undefined : Number(q) / Number(p);
  }
  const q = Number(v1Quota);
  const p = Number(v1Period);
  return q > 0 && p > 0 ? q / p : undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
