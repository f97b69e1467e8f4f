#!/usr/bin/env bash
# Runs every test of libmcpauth on a new machine: installs dependencies, builds, then runs the
# C suite, the ABI check, the suite under ASan+UBSan and under TSan (threaded suites), valgrind on
# the CLI, the CLI contract, a libFuzzer smoke run, the HTTP and OAuth-proxy end-to-end tests
# (real IdP, replicas, headless Chromium, MCP conformance), the Python package tests and the Node
# package tests (node/scripts/test.sh) and the Go package tests (go/scripts/test.sh).
# Prints one line per stage and a final "N passed, M failed" over the stages.
# Usage: bash scripts/test-all.sh            (FUZZ_SECONDS=15 by default per fuzz target)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
LOGDIR=${LOGDIR:-$ROOT/build-logs}
mkdir -p "$LOGDIR"

bash scripts/install-deps.sh || exit 1

passed=0; failed=0; failed_names=()
stage() { # stage NAME command...
  local name=$1; shift
  local t0=$SECONDS
  echo "=== stage: $name"
  if "$@" >"$LOGDIR/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "--- $name: ok ($((SECONDS - t0))s)"
    tail -n 3 "$LOGDIR/$name.log"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "--- $name: FAILED ($((SECONDS - t0))s)"
    tail -n 60 "$LOGDIR/$name.log"
  fi
}

build() { # build DIR cmake-args...
  local dir=$1; shift
  cmake -S "$ROOT" -B "$dir" "$@" && cmake --build "$dir" -j"$JOBS"
}

c_suite() {
  build build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    (cd build-ci && ctest --output-on-failure -j"$JOBS")
}
abi_check() { bash scripts/abi-check.sh build-ci/libmcpauth.so.1; }
install_check() { bash tests/cli/install_check.sh build-ci; }
asan_suite() {
  build build-asan -DCMAKE_BUILD_TYPE=Debug -DMCPAUTH_SANITIZE=ON -DMCPAUTH_BUILD_BENCH=OFF &&
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 CK_FORK=no ctest --output-on-failure -j"$JOBS")
}
tsan_suite() {
  build build-tsan -DCMAKE_BUILD_TYPE=Debug -DMCPAUTH_TSAN=ON -DMCPAUTH_BUILD_BENCH=OFF \
        -DMCPAUTH_BUILD_CLI=OFF &&
    (cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 CK_FORK=no \
       ctest --output-on-failure -R 'check_(threads|jwks_cache|token_cache)')
}
valgrind_cli() { bash tests/cli/valgrind_cli.sh build-ci/mcpauth; }
cli_contract() { bash tests/cli/test_cli.sh build-ci/mcpauth; }
fuzz_smoke() {
  CC=clang-14 build build-fuzz -DMCPAUTH_BUILD_FUZZ=ON -DMCPAUTH_BUILD_TESTS=OFF \
      -DMCPAUTH_BUILD_CLI=OFF -DMCPAUTH_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    bash tests/fuzz/smoke.sh build-fuzz "$FUZZ_SECONDS"
}
format_check() {
  git ls-files 'libmcpauth/*.c' 'libmcpauth/*.h' 'tests/c/*.c' 'tests/c/*.h' 'tests/fuzz/*.c' |
    xargs clang-format-14 --dry-run --Werror
}
http_e2e() { bash tests/http/run.sh "$ROOT/build-ci/mcpauth"; }
proxy_e2e() { bash tests/proxy/run.sh "$ROOT/build-ci/mcpauth"; }
python_suite() { bash python/scripts/test.sh; }
python_frameworks() { bash python/scripts/test-frameworks.sh; }
python_packaging() { bash python/scripts/test-packaging.sh; }
go_suite() { MCPAUTH_CMAKE_BUILD_DIR="$ROOT/build-ci" bash go/scripts/test.sh; }
node_suite() { bash node/scripts/test.sh; }

stage c-suite c_suite
stage abi-check abi_check
stage install install_check
stage cli-contract cli_contract
stage valgrind-cli valgrind_cli
stage asan-ubsan asan_suite
stage tsan tsan_suite
stage fuzz-smoke fuzz_smoke
stage clang-format format_check
stage http-e2e http_e2e
stage proxy-e2e proxy_e2e
stage python python_suite
stage python-frameworks python_frameworks
stage python-packaging python_packaging
stage node node_suite
stage go go_suite

echo
[ $failed -gt 0 ] && echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
