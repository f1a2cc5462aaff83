// The ceiling the HTTP benchmarks compare geecache with: the least a Bun server can do.
// Usage: bun scripts/bench/_bare-server.ts --port=P --mode=origin|headers|relay|slow|random [--origin=URL] [--delay=MS]
//   origin: answers GET /api?key=K from a Map (the demo rows and k000..k999 -> "v" + digits).
//   headers: as origin, with the four headers a geecache hit carries (what those alone cost).
//   relay:  fetches the same path and query from --origin and returns the body: one bare hop.
//   slow:   a slow origin for the HTTP source: GET /values/K answers "value of K" after --delay ms
//           (default 50); GET /count says how many value requests it has had.
//   random: GET /values/K answers random bytes, 1 KiB to 64 KiB, the size derived from K (memory.ts),
//           or exactly --size bytes when given (memory-churn.ts).
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const port = Number(arg("port") ?? 0);
const mode = arg("mode") ?? "origin";
const origin = arg("origin");
const delay = Number(arg("delay") ?? 50);
const fixedSize = arg("size") === undefined ? undefined : Number(arg("size"));
const MODES = ["origin", "headers", "relay", "slow", "random"];
if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(", ")}, got ${mode}`);
if (mode === "relay" && !origin) throw new Error("--mode=relay needs --origin=URL");

const values = new Map<string, string>([
  ["Tom", "630"],
  ["Jack", "589"],
  ["Sam", "567"],
]);
for (let i = 0; i < 1000; i++) values.set(`k${String(i).padStart(3, "0")}`, `v${i}`);

const NOT_FOUND = () => new Response("not found\n", { status: 404 });

function keyOf(url: string): string | undefined {
  const at = url.indexOf("key=");
  if (at < 0) return undefined;
  const end = url.indexOf("&", at);
  const raw = url.slice(at + 4, end < 0 ? undefined : end);
  return raw.includes("%") ? decodeURIComponent(raw) : raw;
}

function pathOf(url: string): string {
  return url.slice(url.indexOf("/", url.indexOf("//") + 2));
}

const hitHeaders =
  mode === "headers"
    ? new Headers({
        "content-type": "application/octet-stream",
        "x-geecache-owner": `http://127.0.0.1:${port}`,
        "x-geecache-cache": "hit",
        "x-geecache-from": "main",
      })
    : undefined;

let served = 0; // slow mode: value requests so far
const slow = async (req: Request) => {
  const path = pathOf(req.url);
  if (path === "/healthz") return new Response("ok");
  if (path === "/count") return new Response(String(served));
  if (!path.startsWith("/values/")) return NOT_FOUND();
  served++;
  await Bun.sleep(delay);
  return new Response(`value of ${decodeURIComponent(path.slice("/values/".length))}`);
};

/** randomSize is memory.ts's value size for key: 1 KiB to 64 KiB. */
const randomSize = (key: string) => fixedSize ?? 1024 + (Bun.hash.crc32(key) % (63 * 1024 + 1));
// getRandomValues fills at most 65,536 bytes at a time.
const randomBytes = (n: number) => {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
};
const random = (req: Request) => {
  const path = pathOf(req.url);
  if (path === "/healthz") return new Response("ok");
  if (!path.startsWith("/values/")) return NOT_FOUND();
  return new Response(randomBytes(randomSize(decodeURIComponent(path.slice("/values/".length)))));
};

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch:
    mode === "random"
      ? random
      : mode === "slow"
        ? slow
        : mode === "origin" || mode === "headers"
          ? (req) => {
              const key = keyOf(req.url);
              if (key === undefined) return req.url.endsWith("/healthz") ? new Response("ok") : NOT_FOUND();
              const v = values.get(key);
              return v === undefined
                ? NOT_FOUND()
                : hitHeaders
                  ? new Response(v, { headers: hitHeaders })
                  : new Response(v);
            }
          : async (req) => {
              const path = pathOf(req.url);
              if (path === "/healthz") return new Response("ok");
              const res = await fetch(origin + path);
              return new Response(await res.bytes(), { status: res.status });
            },
});
console.log(`listening on ${server.url.href} (${mode})`);
