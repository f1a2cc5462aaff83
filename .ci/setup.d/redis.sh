# Installs Debian's redis-tools (redis-cli, redis-benchmark) and redis-server for the RESP tests and
# scripts/bench/resp.ts, which start their own processes. Sourced by .ci/run; never fails CI: without
# redis-cli the RESP tests skip and say why.
if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis: installing Debian's redis-tools and redis-server"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools redis-server) >/dev/null 2>&1 \
      || echo "redis: apt-get install redis-tools redis-server failed; the RESP tests will skip"
  else
    echo "redis: not installed and cannot apt-get (needs root); the RESP tests will skip"
  fi
fi
