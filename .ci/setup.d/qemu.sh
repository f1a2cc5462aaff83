# Installs qemu-user and Debian's arm64 C library, so test/release.test.ts can run the linux-arm64
# binary under qemu-aarch64. Sourced by .ci/run: it exports QEMU_LD_PREFIX and never fails CI;
# when apt cannot help it says why and that test skips.
_qemu_prefix=/usr/aarch64-linux-gnu
_qemu_ready() { command -v qemu-aarch64 >/dev/null 2>&1 && [ -e "$_qemu_prefix/lib/ld-linux-aarch64.so.1" ]; }

if _qemu_ready; then
  echo "qemu: qemu-aarch64 and the arm64 libc are already installed"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "qemu: no apt-get on this machine; the linux-arm64 release test will skip"
elif [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
  echo "qemu: not root and no password-less sudo, cannot apt-get install; the linux-arm64 release test will skip"
else
  echo "qemu: installing qemu-user and libc6-arm64-cross"
  _qemu_sudo=()
  [ "$(id -u)" -eq 0 ] || _qemu_sudo=(sudo -n)
  # No recommends: qemu-user-binfmt would register handlers machine-wide, and the test calls qemu-aarch64 itself.
  if ! { timeout 300 "${_qemu_sudo[@]}" apt-get update -qq &&
    timeout 600 "${_qemu_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=120 qemu-user libc6-arm64-cross >/dev/null; }; then
    echo "qemu: apt-get failed (no network or no such packages); the linux-arm64 release test will skip"
  fi
fi

if _qemu_ready; then export QEMU_LD_PREFIX="$_qemu_prefix"; fi
unset -f _qemu_ready
unset _qemu_prefix _qemu_sudo
return 0
