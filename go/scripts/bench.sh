#!/usr/bin/env bash
# The Go binding against golang-jwt/jwt v5 (key preloaded) and golang-jwt + keyfunc v3 (the
# same JWK set), same tokens, one run: go test -bench over go/bench, then the ratios.
# Usage: bash go/scripts/bench.sh [benchtime (default 2s)] [count (default 3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=go/scripts/env.sh
. go/scripts/env.sh
out=$(go test -run '^$' -bench . -benchmem -benchtime "${1:-2s}" -count "${2:-3}" ./go/bench)
echo "$out"
echo
echo "$out" | awk '
/^BenchmarkVerify\// {
    split($1, p, "/"); alg = p[2]; mode = p[3]; sub(/-[0-9]+$/, "", mode)
    ns[alg, mode] += $3; n[alg, mode]++; allocs[alg, mode] = $7; algs[alg] = 1
}
END {
    printf "%-6s %14s %14s %14s %14s %9s %9s %9s %7s\n", "alg", "mcpauth-miss/s", "golang-jwt/s", "+keyfunc/s",
        "repeat/s", "miss/jwt", "miss/kf", "rep/jwt", "allocs"
    for (a in algs) {
        m = ns[a, "mcpauth-miss"] / n[a, "mcpauth-miss"]; j = ns[a, "golang-jwt"] / n[a, "golang-jwt"]
        k = ns[a, "golang-jwt-keyfunc"] / n[a, "golang-jwt-keyfunc"]; r = ns[a, "mcpauth-repeat"] / n[a, "mcpauth-repeat"]
        printf "%-6s %14.0f %14.0f %14.0f %14.0f %9.2f %9.2f %9.1f %3d/%d\n", a, 1e9 / m, 1e9 / j, 1e9 / k, 1e9 / r,
            j / m, k / m, j / r, allocs[a, "mcpauth-miss"], allocs[a, "mcpauth-repeat"]
    }
}'
