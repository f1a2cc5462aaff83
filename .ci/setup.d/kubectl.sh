# Makes sure kubectl is there for test/kubernetes.test.ts, which renders deploy/kubernetes with
# `kubectl kustomize` (offline, no cluster). When kubectl is missing it installs Debian's
# kubernetes-client (kubectl 1.20, whose kustomize renders the base too). Sourced by .ci/run: it
# exports nothing and never fails CI; when apt cannot help it says why, and that test skips.
if command -v kubectl >/dev/null 2>&1; then
  echo "kubectl: already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "kubectl: no apt-get on this machine; the Kubernetes manifest test will skip"
elif [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "kubectl: not root and no password-less sudo, cannot apt-get install; the Kubernetes manifest test will skip"
else
  echo "kubectl: installing Debian's kubernetes-client"
  _kubectl_sudo=()
  [ "$(id -u)" -eq 0 ] || _kubectl_sudo=(sudo -n)
  if ! { timeout 300 "${_kubectl_sudo[@]}" apt-get update -qq &&
    timeout 600 "${_kubectl_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=120 kubernetes-client >/dev/null; }; then
    echo "kubectl: apt-get install kubernetes-client failed (no network or no such package); the Kubernetes manifest test will skip"
  fi
  unset _kubectl_sudo
fi

command -v kubectl >/dev/null 2>&1 && echo "kubectl: $(kubectl version --client 2>/dev/null | head -n 1)"
return 0
