# Installs promtool (Debian package prometheus) for test/metrics.test.ts and chromium for
# test/status-page.test.ts. Sourced by .ci/run: it exports nothing and never fails CI; when apt
# cannot help it says why, and the tests that need the missing tool skip with a message.
_obs_missing=()
command -v promtool >/dev/null 2>&1 || _obs_missing+=(prometheus)
[ -x /usr/bin/chromium ] || _obs_missing+=(chromium)

if [ ${#_obs_missing[@]} -eq 0 ]; then
  echo "observability: promtool and chromium are already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "observability: no apt-get on this machine, cannot install ${_obs_missing[*]}; the promtool and browser tests will skip"
elif [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "observability: not root and no password-less sudo, cannot install ${_obs_missing[*]}; the promtool and browser tests will skip"
else
  echo "observability: installing ${_obs_missing[*]}"
  _obs_sudo=()
  [ "$(id -u)" -eq 0 ] || _obs_sudo=(sudo -n)
  # Only the promtool binary is wanted: a policy-rc.d that says 101 keeps the package's Prometheus server from starting.
  _obs_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${_obs_sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${_obs_sudo[@]}" chmod 755 /usr/sbin/policy-rc.d && _obs_policy=/usr/sbin/policy-rc.d
  fi
  if ! { timeout 300 "${_obs_sudo[@]}" apt-get update -qq &&
    timeout 900 "${_obs_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=120 "${_obs_missing[@]}" >/dev/null; }; then
    echo "observability: apt-get install ${_obs_missing[*]} failed (no network or no such packages); the tests that need them will skip"
  fi
  [ -n "$_obs_policy" ] && "${_obs_sudo[@]}" rm -f "$_obs_policy"
fi

command -v promtool >/dev/null 2>&1 && echo "observability: $(promtool --version 2>&1 | head -n 1)"
[ -x /usr/bin/chromium ] && echo "observability: $(/usr/bin/chromium --version 2>/dev/null)"
unset _obs_missing _obs_sudo _obs_policy
return 0
