/** SECRET_PARAM matches the query parameters whose values an access line never shows. */
const SECRET_PARAM = /token|secret|passw|auth|sig|credential|api[-_]?key/i;

/** ServerFetch is a listener's fetch as Bun calls it: the request and the server, which knows the caller's address. */
export type ServerFetch = (
  req: Request,
  server: { requestIP(req: Request): { address: string } | null },
) => Response | Promise<Response>;

/** AccessFields are what one access line says of a request. */
export interface AccessFields {
  method: string;
  /** path is the request's path and query, the values of token-like parameters replaced by ***. */
  path: string;
  status: number;
  /** bytes is the size of the response body. */
  bytes: number;
  /** duration_ms runs from the request's arrival to its response (headers and body ready). */
  duration_ms: number;
  remote: string | null;
  /** peer is true on a peer route (a path under one of the peer prefixes). */
  peer: boolean;
}

/** redactedPath is url's path and query with the values of token-like parameters (token=, password=, ...) as ***. */
export function redactedPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const path = start < 0 ? "/" : url.slice(start);
  const q = path.indexOf("?");
  if (q < 0) return path;
  const params = path
    .slice(q + 1)
    .split("&")
    .map((p) => {
      const eq = p.indexOf("=");
      if (eq < 0) return p;
      let name = p.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // a malformed escape: the raw name is matched
      }
      return SECRET_PARAM.test(name) ? `${p.slice(0, eq)}=***` : p;
    });
  return `${path.slice(0, q)}?${params.join("&")}`;
}

/**
 * accessLogged wraps a listener's fetch so that each request is one JSON line given to write, in the
 * shape of the node's JSON log lines (time, level, tag "access", message, fields: AccessFields).
 * Only a node started with --access-log builds it: without it the hot path pays nothing.
 */
export function accessLogged(
  fetch: ServerFetch,
  write: (line: string) => void,
  peerPrefixes: readonly string[],
): ServerFetch {
  const log = async (req: Request, remote: string | null, start: number, res: Response): Promise<Response> => {
    let out = res;
    let bytes = Number(res.headers.get("content-length") ?? Number.NaN);
    if (req.method === "HEAD")
      bytes = 0; // Bun sends no body
    else if (!Number.isFinite(bytes)) {
      if (res.body === null) bytes = 0;
      else {
        // The size of a body Bun has not sent yet: read it (in memory for every answer a node gives) and answer it.
        const blob = await res.blob();
        bytes = blob.size;
        out = new Response(blob, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
    }
    const path = redactedPath(req.url);
    const fields: AccessFields = {
      method: req.method,
      path,
      status: res.status,
      bytes,
      duration_ms: Math.round((performance.now() - start) * 1000) / 1000,
      remote,
      peer: peerPrefixes.some((p) => path.startsWith(p)),
    };
    const message = `${req.method} ${path} ${res.status}`;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", tag: "access", message, fields })}\n`);
    return out;
  };
  return (req, server) => {
    const start = performance.now();
    const remote = server.requestIP(req)?.address ?? null;
    let res: Response | Promise<Response>;
    try {
      res = fetch(req, server);
    } catch (err) {
      void log(req, remote, start, new Response(null, { status: 500 }));
      throw err;
    }
    if (res instanceof Response) return log(req, remote, start, res);
    return res.then(
      (r) => log(req, remote, start, r),
      (err) => {
        void log(req, remote, start, new Response(null, { status: 500 }));
        throw err;
      },
    );
  };
}

/** writeStdout writes an access line on standard output. */
export function writeStdout(line: string): void {
  process.stdout.write(line);
}
