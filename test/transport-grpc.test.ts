// The transport conformance suite against the gRPC transport (geecachepb.GroupCache over HTTP/2).
import { grpcTransport } from "../src/transport/grpc/index.ts";
import { transportCases } from "./transport.cases.ts";

transportCases({
  name: "grpc",
  make: (o) => grpcTransport({ token: o.token, timeout: o.timeout, maxValueBytes: o.maxValueBytes }),
});
