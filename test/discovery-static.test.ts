// The discovery conformance suite (test/discovery.cases.ts) against staticPeers, the fixed --peers list.
import { staticPeers } from "../src/cluster/discovery.ts";
import { discoveryCases } from "./discovery.cases.ts";

const NEVER = "a static list is given once: it never changes, so nothing is read again";

discoveryCases({
  name: "static",
  async open(urls) {
    const cannot = () => Promise.reject(new Error(NEVER));
    return {
      discovery: staticPeers(urls),
      events: [],
      show: cannot,
      fail: cannot,
      [Symbol.asyncDispose]: async () => {},
    };
  },
  empty: "applied",
  skip: {
    change: NEVER,
    flap: NEVER,
    empty: NEVER,
    failure: "nothing is read after the list is given, so nothing can fail",
  },
});
