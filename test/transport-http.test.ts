// The transport conformance suite (test/transport.cases.ts) against the HTTP transport.
import { httpTransport } from "../src/transport/http/index.ts";
import { transportCases } from "./transport.cases.ts";

transportCases({
  name: "http",
  make: (o) => httpTransport({ token: o.token, timeout: o.timeout, maxValueBytes: o.maxValueBytes }),
});
