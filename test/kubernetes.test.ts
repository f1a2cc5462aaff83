// deploy/kubernetes: renders with `kubectl kustomize` (offline), every object passes the Kubernetes
// schemas of the kubernetes-models package (at run time, and by tsc for fields a type lacks), every
// GEECACHE_* variable is a flag the CLI knows and the CLI accepts the values, and the security,
// memory, drain and wiring settings hold.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { IMAGE_UID } from "../scripts/image.ts";
import { resolveConfig } from "../src/cli/config.ts";
import { envName, FLAGS } from "../src/cli/flags.ts";
import { parseBytes, parseDuration } from "../src/core/units.ts";
import { protection } from "../src/node/protected-mode.ts";

const ROOT = resolve(import.meta.dir, "..");
const BASE = join(ROOT, "deploy/kubernetes");
const MODELS = join(ROOT, "node_modules/kubernetes-models");
/** SHUTDOWN_GRACE_MS mirrors src/cli/main.ts: how long in-flight requests may take after the drain. */
const SHUTDOWN_GRACE_MS = 5000;
const KUBECTL = Bun.which("kubectl");
const SKIP = KUBECTL ? undefined : "kubectl is not on PATH (it renders the kustomize base)";
if (SKIP) console.log(`kubernetes.test: skipping: ${SKIP}`);

// The parts of the rendered objects the checks read; the schemas check the rest.
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
};
type Container = {
  name: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
};
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, any> & {
    selector?: any;
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
};

let objects: K8sObject[];
let scratch: string;
const find = (kind: string, pred: (o: K8sObject) => boolean = () => true): K8sObject => {
  const o = objects.find((x) => x.kind === kind && pred(x));
  if (!o) throw new Error(`no ${kind} in the rendered manifests`);
  return o;
};
const statefulSet = () => find("StatefulSet");
const pod = () => statefulSet().spec.template!.spec;
const container = () => pod().containers[0]!;
const env = () => container().env ?? [];
const envValue = (name: string): string => {
  const v = env().find((e) => e.name === name)?.value;
  if (v === undefined) throw new Error(`${name} has no literal value in the StatefulSet`);
  return v;
};
/**
 * modelPath is the kubernetes-models module of an object: apps/v1 StatefulSet → apps/v1/StatefulSet, v1 Service →
 * v1/Service.
 */
const modelPath = (o: K8sObject) => `${MODELS}/${o.apiVersion}/${o.kind}`;

/** mebibytes reads a Kubernetes memory quantity with a binary suffix (400Mi, 1Gi) as MiB. */
function mebibytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory ${JSON.stringify(quantity)}: write it with Ki, Mi or Gi`);
  return Number(m[1]) * { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[m[2] as "Ki" | "Mi" | "Gi"];
}

describe.skipIf(SKIP !== undefined)("deploy/kubernetes", () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "geecache-kubernetes-test-"));
    const proc = Bun.spawn([KUBECTL!, "kustomize", BASE], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 30_000,
      killSignal: "SIGKILL",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`kubectl kustomize ${BASE} exited ${code}: ${err}`);
    objects = (Bun.YAML.parse(out) as K8sObject[]).filter(Boolean);
  });

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("the snapshot-pvc component keeps the snapshot on a PersistentVolumeClaim instead of the emptyDir", () => {
    // An overlay outside the base (kustomize refuses one inside it), as a user writes it.
    const overlay = mkdtempSync(join(scratch, "overlay-"));
    const base = relative(overlay, BASE);
    writeFileSync(
      join(overlay, "kustomization.yaml"),
      `resources: [${base}]\ncomponents: [${base}/components/snapshot-pvc]\n`,
    );
    const r = Bun.spawnSync([KUBECTL!, "kustomize", overlay], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`kubectl kustomize exited ${r.exitCode}: ${r.stderr.toString()}`);
    const set = (Bun.YAML.parse(r.stdout.toString()) as K8sObject[]).find((o) => o?.kind === "StatefulSet") as {
      spec: { volumeClaimTemplates?: { metadata: { name: string } }[]; template: { spec: { volumes?: unknown[] } } };
    };
    const mounts = statefulSet().spec.template!.spec.containers[0]!.volumeMounts ?? [];
    expect({
      claims: set.spec.volumeClaimTemplates?.map((c) => c.metadata.name),
      volumes: set.spec.template.spec.volumes,
      mounted: mounts.map((m) => m.name),
    }).toEqual({ claims: ["snapshot"], volumes: undefined, mounted: ["snapshot"] });
  });

  test("renders a StatefulSet, a headless Service for discovery, a Service for /api and a PodDisruptionBudget", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "PodDisruptionBudget/geecache",
      "Service/geecache",
      "Service/geecache-peers",
      "StatefulSet/geecache",
    ]);
  });

  test("every object passes its Kubernetes schema", async () => {
    for (const o of objects) {
      const model = (await import(modelPath(o)))[o.kind];
      expect(() => new model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  test("no object has a field that its Kubernetes type lacks (tsc's excess property check)", async () => {
    // The run-time schemas allow unknown fields, so a misspelt readOnlyRootFilesystem would pass them.
    const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from ${JSON.stringify(modelPath(o))};`);
    lines.push(...objects.map((o, i) => `export const o${i}: T${i} = ${JSON.stringify(o)};`));
    const file = join(scratch, "manifests.ts");
    writeFileSync(file, lines.join("\n"));
    const tsc = join(ROOT, "node_modules/.bin/tsc");
    const args = [
      "--ignoreConfig",
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--moduleResolution",
      "bundler",
      "--module",
      "preserve",
      "--target",
      "esnext",
      "--types",
      "",
      file,
    ];
    const proc = Bun.spawn([tsc, ...args], {
      cwd: scratch,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
      killSignal: "SIGKILL",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect({ code, output: (out + err).trim() }).toEqual({ code: 0, output: "" });
  }, 60_000);

  test("every GEECACHE_* variable is a geecache flag, and each $(VAR) is defined above its use", () => {
    const flagEnv = new Set(Object.keys(FLAGS).map(envName));
    const names = env().map((e) => e.name);
    const geecache = names.filter((n) => n.startsWith("GEECACHE_"));
    expect(geecache.filter((n) => !flagEnv.has(n))).toEqual([]);
    expect(geecache.length).toBeGreaterThan(10);
    expect(new Set(names).size).toBe(names.length);
    // Kubernetes expands $(VAR) only for variables listed before; otherwise the text stays as is.
    env().forEach((e, i) => {
      for (const [, ref] of (e.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        expect(names.slice(0, i), `${e.name} uses $(${ref})`).toContain(ref!);
      }
    });
    // Secrets never appear as literal values.
    for (const e of env().filter((e) => /TOKEN|PASSWORD/.test(e.name)))
      expect({ name: e.name, value: e.value, fromSecret: !!e.valueFrom?.secretKeyRef }).toEqual({
        name: e.name,
        value: undefined,
        fromSecret: true,
      });
  });

  test("the CLI accepts the settings: discovery by the headless Service, self from the pod IP, the API on its own port", () => {
    const vars: Record<string, string> = { POD_IP: "10.1.2.3", POD_NAMESPACE: "shop" };
    for (const e of env()) {
      if (e.valueFrom?.secretKeyRef) vars[e.name] = "a-secret-token";
      else if (e.value !== undefined)
        vars[e.name] = e.value.replace(/\$\((\w+)\)/g, (_, v: string) => vars[v] ?? `$(${v})`);
    }
    // The snapshot lives on the pod's volume; resolved here, its folder is a temporary one.
    const snapshot = vars.GEECACHE_SNAPSHOT!;
    const mounts = (pod().containers[0]!.volumeMounts ?? []).map((m) => m.mountPath);
    expect(mounts.some((m) => snapshot.startsWith(`${m}/`))).toBe(true);
    vars.GEECACHE_SNAPSHOT = join(tmpdir(), "geecache-k8s-snapshot");
    const config = resolveConfig({}, vars);
    const headless = find("Service", (s) => s.spec.clusterIP === "None");
    expect({
      self: config.self,
      dns: config.peersDns?.name,
      srv: config.peersDns?.srv,
      host: config.host,
      api: config.api,
      token: config.token,
      apiToken: config.apiToken,
      // On 0.0.0.0 with both tokens, protected mode refuses nothing: peers and writers from other pods get through.
      refused: protection(config),
    }).toEqual({
      self: `http://10.1.2.3:${config.port}`,
      dns: `${headless.metadata.name}.shop.svc.cluster.local`,
      srv: false,
      host: "0.0.0.0",
      api: true,
      token: "a-secret-token",
      apiToken: "a-secret-token",
      refused: undefined,
    });
    expect(statefulSet().spec.serviceName).toBe(headless.metadata.name);
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
  });

  test("pods run as the image's non-root user, read-only, with no privilege escalation, no capabilities, seccomp RuntimeDefault", () => {
    const p = pod();
    expect({
      pod: p.securityContext,
      serviceLinks: p.enableServiceLinks,
      serviceAccountToken: p.automountServiceAccountToken,
    }).toEqual({
      pod: {
        runAsNonRoot: true,
        runAsUser: IMAGE_UID,
        runAsGroup: IMAGE_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      serviceLinks: false, // else Kubernetes injects GEECACHE_PORT=tcp://... for the geecache Service
      serviceAccountToken: false,
    });
    for (const c of p.containers) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  test("the memory limit is 1.25 x the cache budget + 80MiB, and the grace period outlasts drain + shutdown", () => {
    const budgetMiB = parseBytes(envValue("GEECACHE_CACHE_BYTES"))! / 2 ** 20;
    const { requests, limits } = container().resources ?? {};
    expect(mebibytes(limits!.memory!)).toBe(Math.ceil(1.25 * budgetMiB + 80));
    expect(requests!.memory).toBe(limits!.memory); // no overcommit: the kubelet evicts a cache last
    expect(requests!.cpu).toBeDefined();
    expect(limits!.cpu).toBeDefined();
    const drainMs = parseDuration(envValue("GEECACHE_DRAIN"))!;
    expect(drainMs).toBeGreaterThan(0);
    expect(pod().terminationGracePeriodSeconds! * 1000).toBeGreaterThan(drainMs + SHUTDOWN_GRACE_MS);
  });

  test("probes and Services reach the node's ports, and every selector selects the pods", () => {
    const c = container();
    const portOf = (name: string | number) =>
      typeof name === "number" ? name : c.ports?.find((p) => p.name === name)?.containerPort;
    const nodePort = Number(envValue("GEECACHE_PORT"));
    expect({ liveness: c.livenessProbe?.httpGet?.path, readiness: c.readinessProbe?.httpGet?.path }).toEqual({
      liveness: "/healthz",
      readiness: "/readyz",
    });
    expect([portOf(c.livenessProbe!.httpGet!.port), portOf(c.readinessProbe!.httpGet!.port)]).toEqual([
      nodePort,
      nodePort,
    ]);
    const headless = find("Service", (s) => s.spec.clusterIP === "None");
    const api = find("Service", (s) => s.spec.clusterIP !== "None");
    expect(portOf(headless.spec.ports[0].targetPort)).toBe(nodePort);
    expect(portOf(api.spec.ports[0].targetPort)).toBe(Number(envValue("GEECACHE_API_PORT")));

    const podLabels = statefulSet().spec.template!.metadata!.labels!;
    const selects = (selector: Record<string, string> | undefined) =>
      selector !== undefined &&
      Object.keys(selector).length > 0 &&
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect({
      statefulSet: selects(statefulSet().spec.selector.matchLabels),
      headless: selects(headless.spec.selector),
      api: selects(api.spec.selector),
      pdb: selects(find("PodDisruptionBudget").spec.selector?.matchLabels),
    }).toEqual({ statefulSet: true, headless: true, api: true, pdb: true });
  });
});
