# Installs buildah (Debian package) for test/image.test.ts, which builds the container image from
# ./Containerfile and runs its binary with chroot. Sourced by .ci/run: it exports nothing and never
# fails CI; when apt cannot help it says why, and that test skips with a message.
if command -v buildah >/dev/null 2>&1; then
  echo "buildah: already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "buildah: no apt-get on this machine; the container image test will skip"
elif [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "buildah: not root and no password-less sudo, cannot apt-get install; the container image test will skip"
else
  echo "buildah: installing Debian's buildah"
  _buildah_sudo=()
  [ "$(id -u)" -eq 0 ] || _buildah_sudo=(sudo -n)
  if ! { timeout 300 "${_buildah_sudo[@]}" apt-get update -qq &&
    timeout 600 "${_buildah_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=120 buildah >/dev/null; }; then
    echo "buildah: apt-get install buildah failed (no network or no such package); the container image test will skip"
  fi
  unset _buildah_sudo
fi

command -v buildah >/dev/null 2>&1 && echo "buildah: $(buildah --version 2>&1 | head -n 1)"
return 0
