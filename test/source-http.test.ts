// The source conformance suite (test/source.cases.ts) against httpSource and a real origin
// (Bun.serve on port 0): /v/KEY serves the rows (404 when missing), /fail/KEY answers 500 and
// /slow/KEY takes the request and holds it until the case ends.
import { httpSource } from "../src/sources/http.ts";
import { sourceCases } from "./source.cases.ts";

sourceCases({
  name: "http",
  async open(rows, timeout) {
    const held: Array<() => void> = [];
    let slow = 0;
    const origin = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const [, route = "", key = ""] = new URL(req.url).pathname.split("/");
        if (route === "fail") return new Response("database on fire", { status: 500 });
        if (route === "slow") {
          slow++;
          await new Promise<void>((release) => held.push(release));
          return new Response("late");
        }
        const value = rows.get(decodeURIComponent(key));
        return value ? new Response(value) : new Response("not here", { status: 404 });
      },
    });
    const base = `http://127.0.0.1:${origin.port}`;
    return {
      getter: httpSource({ url: `${base}/v/{key}` }),
      broken: httpSource({ url: `${base}/fail/{key}` }),
      stalled: { getter: httpSource({ url: `${base}/slow/{key}`, timeout }), asked: () => slow },
      async [Symbol.asyncDispose]() {
        for (const release of held) release();
        await origin.stop(true);
      },
    };
  },
});
