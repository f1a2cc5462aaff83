#!/bin/sh
# Installs the geecache binary for this machine from a GitHub release, after checking its SHA-256.
#   curl -fsSL https://raw.githubusercontent.com/geecache/geecache/main/install.sh | sh
#   sh install.sh --version v0.1.0 --dir /usr/local/bin
set -eu

usage() {
  cat <<'EOF'
Install geecache: download the release binary for this OS and CPU, check it against the
release's SHA256SUMS, and put it in a directory on your PATH.

usage: install.sh [--version VERSION] [--dir DIR] [--help]

  --version VERSION  release tag to install, e.g. v0.1.0 (0.1.0 works too);
                     default $GEECACHE_VERSION, else latest
  --dir DIR          where to put the geecache binary;
                     default $GEECACHE_INSTALL_DIR, else $HOME/.local/bin
  --help             print this and exit

environment:
  GEECACHE_REPO      GitHub owner/name to download from (default geecache/geecache)
  GEECACHE_BASE_URL  releases URL to download from (default https://github.com/$GEECACHE_REPO/releases);
                     files are read from BASE/download/VERSION/FILE, or BASE/latest/download/FILE
EOF
}

die() {
  printf 'geecache install: %s\n' "$*" >&2
  exit 1
}

repo=${GEECACHE_REPO:-geecache/geecache}
base_url=${GEECACHE_BASE_URL:-https://github.com/$repo/releases}
version=${GEECACHE_VERSION:-latest}
install_dir=${GEECACHE_INSTALL_DIR:-${HOME:+$HOME/.local/bin}}

while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --version) [ $# -ge 2 ] || die "--version needs a value, e.g. --version v0.1.0"; version=$2; shift 2 ;;
    --version=*) version=${1#*=}; shift ;;
    --dir) [ $# -ge 2 ] || die "--dir needs a value"; install_dir=$2; shift 2 ;;
    --dir=*) install_dir=${1#*=}; shift ;;
    *) printf 'geecache install: unknown argument %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$version" ] || die "--version is empty: give a tag such as v0.1.0, or latest"
[ -n "$install_dir" ] || die "no install directory: give --dir DIR, or set GEECACHE_INSTALL_DIR or HOME"
# Release tags are v-prefixed; accept the bare version that package.json and --version print.
case $version in [0-9]*) version=v$version ;; esac

# --- which binary ---------------------------------------------------------------------------
uname_s=$(uname -s)
uname_m=$(uname -m)
case $uname_s in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN* | Windows_NT)
    die "unsupported platform: $uname_s; on Windows download geecache-windows-x64.exe and SHA256SUMS from $base_url by hand" ;;
  *) die "unsupported platform: $uname_s $uname_m (geecache ships binaries for Linux and macOS on x64 and arm64, and Windows on x64); build from source with bun instead" ;;
esac
case $uname_m in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported platform: $uname_s $uname_m (geecache ships binaries for x64 and arm64 only); build from source with bun instead" ;;
esac
if [ "$os" = linux ] && command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | grep -qi musl; then
  die "unsupported platform: Linux with musl libc (e.g. Alpine); the binaries need glibc, so use a glibc image or build from source"
fi
# A shell under Rosetta 2 reports x86_64 on an Apple silicon Mac: the native binary is faster.
if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
  arch=arm64
fi
# The default x64 Linux build needs AVX2; older CPUs get the baseline build.
if [ "$os" = linux ] && [ "$arch" = x64 ] && [ -r /proc/cpuinfo ] && ! grep -q avx2 /proc/cpuinfo; then
  arch=x64-baseline
fi
asset=geecache-$os-$arch

if [ "$version" = latest ]; then
  url=$base_url/latest/download
else
  url=$base_url/download/$version
fi

# --- tools ------------------------------------------------------------------------------------
if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "need curl or wget to download $asset"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "need sha256sum or shasum to check $asset (it is not installed unchecked)"
fi

# --- download and check -------------------------------------------------------------------------
tmp=$(mktemp -d 2>/dev/null || mktemp -d -t geecache)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf 'geecache install: downloading %s (%s) from %s\n' "$asset" "$version" "$url"
fetch "$url/$asset" "$tmp/$asset" || die "download failed: $url/$asset (is $version a release with a $asset file?)"
fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || die "download failed: $url/SHA256SUMS"

# sha256sum lines are "<hex>  <name>", or "<hex> *<name>" in binary mode.
expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$tmp/SHA256SUMS")
[ -n "$expected" ] || die "SHA256SUMS of $version has no line for $asset"
actual=$(sha256 "$tmp/$asset" | tr 'A-F' 'a-f')
[ "$expected" = "$actual" ] || die "checksum mismatch for $asset: expected $expected, got $actual"

# --- install ----------------------------------------------------------------------------------
mkdir -p "$install_dir" || die "cannot create $install_dir"
dest=$install_dir/geecache
# Copy beside the target, then rename: a running geecache keeps its old file, and no half-written binary is ever at $dest.
cp "$tmp/$asset" "$dest.tmp.$$" || die "cannot write to $install_dir (try --dir, or sudo)"
chmod 755 "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest" || { rm -f "$dest.tmp.$$"; die "cannot install to $dest"; }

installed=$("$dest" --version 2>/dev/null) || installed="$version (it did not run here: check $dest --version)"
printf 'geecache install: installed geecache %s to %s\n' "$installed" "$dest"
# shellcheck disable=SC2016 # $PATH in the hint is meant literally: the user pastes it.
case :${PATH:-}: in
  *:"$install_dir":*) ;;
  *) printf 'geecache install: %s is not on your PATH; add it, e.g. export PATH="%s:$PATH"\n' "$install_dir" "$install_dir" ;;
esac
