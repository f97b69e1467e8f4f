# Sourced by go/scripts/test.sh, bench.sh and scripts/demo.sh: puts a Go >= 1.25 first on PATH.
# The go-sdk needs Go 1.25. When the machine's `go` is missing or older (Debian bookworm's
# golang-go is 1.19), the toolchain is fetched the way Go itself does (GOTOOLCHAIN): as the
# module golang.org/toolchain from the Go module proxy, into build-go/ of the repository.
GO_MIN_MINOR=25
GO_TOOLCHAIN_VERSION=${GO_TOOLCHAIN_VERSION:-1.26.8}
_mcpauth_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_go_ok() { # _go_ok GOBIN: a go >= 1.GO_MIN_MINOR
    local v
    v=$("$1" env GOVERSION 2>/dev/null) || return 1
    v=${v#go}
    [ "${v%%.*}" -gt 1 ] 2>/dev/null && return 0
    v=${v#1.}
    [ "${v%%[.a-z]*}" -ge "$GO_MIN_MINOR" ] 2>/dev/null
}

_mcpauth_go_setup() {
    local gobin
    gobin=$(command -v go || true)
    [ -z "$gobin" ] && [ -x /usr/local/go/bin/go ] && gobin=/usr/local/go/bin/go
    if [ -n "$gobin" ] && _go_ok "$gobin"; then
        export PATH="$(dirname "$gobin"):$PATH"
        return 0
    fi
    local arch
    case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
    local mod="golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-${arch}"
    local cache="$_mcpauth_root/build-go/toolchain"
    local dir="$cache/golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-${arch}"
    if [ ! -x "$dir/bin/go" ]; then
        if [ -z "$gobin" ]; then
            echo "go: installing Debian's golang-go to fetch Go ${GO_TOOLCHAIN_VERSION}" >&2
            if [ "$(id -u)" = 0 ]; then apt-get install -y -q golang-go >&2; else sudo apt-get install -y -q golang-go >&2; fi
            gobin=$(command -v go)
        fi
        echo "go: fetching $mod from the Go module proxy" >&2
        GOMODCACHE="$cache" GOFLAGS=-modcacherw GOTOOLCHAIN=local "$gobin" mod download "$mod" >&2 || return 1
        chmod +x "$dir/bin/"* "$dir/pkg/tool/"*/* 2>/dev/null || true
    fi
    export PATH="$dir/bin:$PATH"
    export GOROOT="$dir"
    _go_ok "$dir/bin/go"
}
_mcpauth_go_setup || { echo "go: no Go >= 1.${GO_MIN_MINOR} available" >&2; return 1 2>/dev/null || exit 1; }
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=${GOFLAGS:--buildvcs=false}
