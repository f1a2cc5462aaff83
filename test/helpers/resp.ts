// RESP from the tests' side: the RESP URL a node logged, redis-cli runs, and a raw socket for bytes no client sends.

import type { RunningNode } from "./process.ts";

/** REDIS_CLI is Debian's redis-cli (redis-tools; .ci/setup.d/redis.sh installs it), or null. */
export const REDIS_CLI = Bun.which("redis-cli");

/** respUrl is the redis:// URL in a node's start-up line (it must run with --resp-port). */
export function respUrl(node: RunningNode): string {
  const m = node.stdout.text.match(/RESP on (rediss?:\/\/[^\s,;]+)/);
  if (!m) throw new Error(`no "RESP on" in the start-up line: ${node.stdout.text.split("\n", 1)[0]}`);
  return m[1]!;
}

/** redisCli runs redis-cli -u url with args (stdin given for --pipe) and answers its exit code and output. */
export async function redisCli(
  url: string,
  args: readonly string[],
  stdin?: string,
): Promise<{ code: number | null; out: string; err: string }> {
  const proc = Bun.spawn([REDIS_CLI!, "-u", url, ...args], {
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 10_000,
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out, err };
}

/** RawReply is what a server wrote on one connection, and whether it closed it. */
export interface RawReply {
  text: string;
  closed: boolean;
}

/**
 * raw connects to url, writes each part (one write per part, in order, each after the previous was sent), and
 * resolves once the text received satisfies done or the server closes (rejecting after timeoutMs).
 */
export async function raw(
  url: string,
  parts: readonly (string | Uint8Array)[],
  done: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  let text = "";
  const result = Promise.withResolvers<RawReply>();
  const socket = await Bun.connect({
    hostname: hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(port),
    socket: {
      data(_s, chunk) {
        text += Buffer.from(chunk).toString("latin1");
        if (done(text)) result.resolve({ text, closed: false });
      },
      close() {
        result.resolve({ text, closed: true });
      },
      error(_s, err) {
        result.reject(err);
      },
    },
  });
  for (const p of parts) socket.write(p);
  const timer = setTimeout(
    () => result.reject(new Error(`no full answer in ${timeoutMs} ms; got ${JSON.stringify(text)}`)),
    timeoutMs,
  );
  try {
    return await result.promise;
  } finally {
    clearTimeout(timer);
    socket.end();
  }
}

/** lines counts the CRLF-ended lines of text (the end condition of simple replies). */
export function lines(n: number): (text: string) => boolean {
  return (text) => text.split("\r\n").length - 1 >= n;
}
