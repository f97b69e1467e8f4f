#!/usr/bin/env bash
# The Go package's CI stage (scripts/test-all.sh stage "go"):
#   - generated files current (go/mcpauth/gen.go -check: wrappers = libmcpauth/sources.txt,
#     hash of the core's sources), gofmt, go vet;
#   - go test -race of go/mcpauth and go/mcpauth/mcpsdk (unit, conformance vectors, the
#     middleware over real sockets, the go-sdk end to end with its own client, and the
#     TypeScript SDK's OAuth client through the proxy with oidc-provider upstream);
#   - the packaging tests: go get from a file:// module proxy, go mod vendor + -mod=vendor,
#     -tags libmcpauth against a core installed with cmake --install, CGO_ENABLED=0;
#   - the benchmark compiled and run once (go test -bench, 1 iteration: a smoke run, not a figure).
# Usage: bash go/scripts/test.sh        (MCPAUTH_CMAKE_BUILD_DIR=build-ci reuses a CMake build)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=go/scripts/env.sh
. go/scripts/env.sh
echo "go: $(go version)"

(cd go/mcpauth && go run gen.go -check)
bad=$(gofmt -l go)
[ -z "$bad" ] || { echo "gofmt: $bad"; exit 1; }
go vet ./...
# the TypeScript SDK's OAuth client and oidc-provider for the end-to-end test through the proxy
if [ ! -d tests/proxy/node_modules/@modelcontextprotocol/sdk ] || [ ! -d tests/proxy/node_modules/oidc-provider ]; then
    echo "go: npm ci in tests/proxy"
    (cd tests/proxy && npm ci --no-audit --no-fund >/dev/null 2>&1)
fi
MCPAUTH_GO_NODE=1 go test -race -count=1 ./go/mcpauth/...
MCPAUTH_GO_PACKAGING=1 go test -count=1 -v -timeout 15m ./go/internal/packaging 2>&1 | grep -E '^(=== RUN|--- |\s+packaging_test|\s+go/mcpauth|ok|FAIL|PASS)'
go test -count=1 -run '^$' -bench . -benchtime 1x ./go/bench >/dev/null
echo "go: all checks passed"
