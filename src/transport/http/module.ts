import type { TransportModule } from "../../cluster/transport-module.ts";
import { type Setting, settingError } from "../../core/settings.ts";
import { DEFAULT_BASE_PATH, httpTransport } from "./index.ts";

function basePath(t: string, name: string): string {
  if (!/^\/([^?#]*\/)?$/.test(t))
    throw settingError(name, `must start and end with "/", such as /_geecache/, got ${JSON.stringify(t)}`);
  return t;
}

const HTTP_SETTINGS: readonly Setting[] = [
  {
    name: "base-path",
    help: "Path prefix of the peer routes (/_groupcache/ for groupcache peers)",
    fallback: DEFAULT_BASE_PATH,
    parse: basePath,
  },
];

/** httpTransportModule is the HTTP/1.1 peer protocol of Go GeeCache and groupcache, on the node's own listener. */
export const httpTransportModule: TransportModule = {
  name: "http",
  schemes: ["http", "https"],
  settings: HTTP_SETTINGS,
  create: (o, c) =>
    httpTransport({
      basePath: o.basePath as string,
      timeout: c.timeout,
      token: c.token,
      maxValueBytes: c.maxValueBytes,
      tls: c.tlsCa ? { ca: c.tlsCa } : undefined,
      bootId: c.bootId,
      refused: c.refused,
    }),
};
