# Installs Go, grpc-go and protobuf's Go plugin from Debian (golang-go, golang-google-grpc-dev,
# golang-goprotobuf-dev, protobuf-compiler, golang-github-golang-groupcache-dev) for test/grpc-interop.test.ts and test/go-mixed-cluster.test.ts, which builds a Go gRPC
# client from proto/geecache.proto in GOPATH mode (no module download). Sourced by .ci/run; it
# exports nothing and never fails CI: without Go the interop test skips and says why.
_go_grpc_ready() {
  command -v go >/dev/null 2>&1 && command -v protoc >/dev/null 2>&1 && command -v protoc-gen-go >/dev/null 2>&1 &&
    [ -d /usr/share/gocode/src/google.golang.org/grpc ] && [ -d /usr/share/gocode/src/github.com/golang/groupcache ]
}
if _go_grpc_ready; then
  echo "go-grpc: $(go version) with grpc-go and protoc-gen-go already installed"
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "go-grpc: Go or grpc-go missing and cannot apt-get (needs root); the Go interop test will skip"
else
  echo "go-grpc: installing golang-go golang-google-grpc-dev golang-goprotobuf-dev golang-github-golang-groupcache-dev protobuf-compiler"
  if ! { timeout 300 apt-get update -qq &&
    timeout 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 \
      golang-go golang-google-grpc-dev golang-goprotobuf-dev golang-github-golang-groupcache-dev protobuf-compiler >/dev/null; }; then
    echo "go-grpc: apt-get install failed; the Go interop test will skip"
  fi
fi
unset -f _go_grpc_ready
return 0
