#!/usr/bin/env bash
# The cluster, write, purge and snapshot suites again with every node on two workers (--workers=2): the node's
# promises must not depend on how many threads serve it.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
GEECACHE_TEST_WORKERS=2 bun test test/cluster.test.ts test/cluster-writes.test.ts test/writes.test.ts \
  test/purge.test.ts test/snapshot.test.ts test/config-file.test.ts test/protected-mode.test.ts test/client.test.ts \
  test/grpc-cluster.test.ts test/go-mixed-cluster.test.ts test/dns-cluster.test.ts test/metrics.test.ts

