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
#     (automatic there), exchanges the code, calls get-profile and prints the profile.
# Everything started here is stopped on exit. Exits 0 only if the profile is the provider's user.
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
    for f in idp server; do
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

say "demo passed in $(($(date +%s) - T0)) s: the tool returned the identity provider's user '$IDP_USER'"
