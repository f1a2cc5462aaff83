// The transport conformance suites (test/transport.cases.ts, test/transport-rules.cases.ts) against the HTTP transport.
import { httpTransport } from "../src/transport/http/index.ts";
import { type TransportFactory, transportCases } from "./transport.cases.ts";
import { transportRuleCases } from "./transport-rules.cases.ts";

const http: TransportFactory = {
  name: "http",
  make: (o) => httpTransport({ token: o.token, timeout: o.timeout, maxValueBytes: o.maxValueBytes }),
};
transportCases(http);
transportRuleCases(http);
