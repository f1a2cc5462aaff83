// The transport conformance suites against the gRPC transport (geecachepb.GroupCache over HTTP/2).
import { grpcTransport } from "../src/transport/grpc/index.ts";
import { type TransportFactory, transportCases } from "./transport.cases.ts";
import { transportRuleCases } from "./transport-rules.cases.ts";

const grpc: TransportFactory = {
  name: "grpc",
  make: (o) => grpcTransport({ token: o.token, timeout: o.timeout, maxValueBytes: o.maxValueBytes }),
};
transportCases(grpc);
transportRuleCases(grpc);
