# Installs dnsmasq (Debian's dnsmasq-base: the DNS server alone, no service) for the DNS discovery
# tests, which start their own dnsmasq on loopback. Sourced by .ci/run; never fails CI: without
# dnsmasq the DNS tests skip and say why.
if ! command -v dnsmasq >/dev/null 2>&1 && [ ! -x /usr/sbin/dnsmasq ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "dnsmasq: installing Debian's dnsmasq-base"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsmasq-base) >/dev/null 2>&1 \
      || echo "dnsmasq: apt-get install dnsmasq-base failed; the DNS tests will skip"
  else
    echo "dnsmasq: not installed and cannot apt-get (needs root); the DNS tests will skip"
  fi
fi
