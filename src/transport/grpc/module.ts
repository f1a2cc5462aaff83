import type { TransportModule } from "../../cluster/transport-module.ts";
import { port, type Setting } from "../../core/settings.ts";
import { grpcTransport } from "./index.ts";

const GRPC_SETTINGS: readonly Setting[] = [
  {
    name: "grpc-port",
    help:
      "Also serve the gRPC peer service (geecachepb.GroupCache) on this port; grpc:// peers are spoken to " +
      "over gRPC",
    fallbackHelp: "off",
    hint: "9001",
    parse: port,
  },
];

/** grpcTransportModule is geecachepb.GroupCache over HTTP/2, on a listener of its own (--grpc-port). */
export const grpcTransportModule: TransportModule = {
  name: "grpc",
  label: "gRPC",
  schemes: ["grpc", "grpcs"],
  settings: GRPC_SETTINGS,
  enabled: (o) => o.grpcPort !== undefined,
  ownPort: (o) => o.grpcPort as number | undefined,
  create: (_, c) =>
    grpcTransport({
      timeout: c.timeout,
      token: c.token,
      maxValueBytes: c.maxValueBytes,
      tls: c.tlsCa ? { ca: c.tlsCa } : undefined,
      bootId: c.bootId,
      refused: c.refused,
    }),
};
