#!/usr/bin/env bash
# After the tests: build every release binary (npm run build:release) and check them against
# SHA256SUMS, as .github/workflows/release.yml does on a tag. .ci/run counts this as one test.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
npm run --silent build:release
(cd dist/release && sha256sum -c SHA256SUMS)
echo "release: built and checked in $((SECONDS - started)) s"
