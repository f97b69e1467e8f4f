#!/usr/bin/env bash
# run.sh - end-to-end tests of the OAuth proxy of `mcpauth serve` with real processes.
#
#   tests/proxy/run.sh /path/to/built/mcpauth
#
# Builds nothing but a tiny LD_PRELOAD clock shim (timeshift.c, with cc). Installs the Node
# packages of tests/proxy (npm ci) only when node_modules is incomplete. Starts, all on
# 127.0.0.1 with ephemeral ports:
#   - ../http/upstream.mjs    the MCP-shaped upstream server (whoami tool shows the user)
#   - ../idp/idp.mjs          oidc-provider: registration disabled, one pre-registered
#                             confidential client whose redirect URIs are the proxies'
#                             /oauth/callback, refresh tokens, JWT access tokens per resource
#   - proxy M                 mcpauth serve with the OAuth proxy (baseUrl http://localhost:PM,
#                             allowLoopbackClientMetadata on)
#   - replicas R1, R2, R3     three mcpauth serve with one config (same sealingSecret, same
#                             baseUrl http://localhost:PR1), allowLoopbackClientMetadata off
#   - replica F               proxy M's config with a clock one hour ahead (timeshift.so)
# and runs:
#   flow.mjs         the MCP TypeScript SDK's whole OAuth flow through the proxy + refresh +
#                    an authenticated MCP call; the flow split across the three replicas
#   attacks.mjs      named attacks over HTTP (see the file header)
#   browser.mjs      the consent page in headless Chromium (click, framing, forged post,
#                    screenshot .run/consent.png)
#   conformance.mjs  `conformance authorization` (npm @modelcontextprotocol/conformance)
#                    against the proxy, its browser step driven automatically
# Everything is killed on exit. Prints "N passed, M failed"; exits non-zero on any failure.
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 /path/to/mcpauth" >&2
    exit 2
fi
MCPAUTH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
IDP="$HERE/../idp/idp.mjs"
UPSTREAM="$HERE/../http/upstream.mjs"
WORK="$HERE/.run"
rm -rf "$WORK"
mkdir -p "$WORK"

# cleanup/traps, ok/bad/summary/fatal, free_port, start, ready
. "$HERE/../lib/common.sh"

command -v node >/dev/null || fatal "node is installed"
command -v cc >/dev/null || fatal "a C compiler (cc) is installed"
need_npm=0
for m in @modelcontextprotocol/sdk oidc-provider playwright-core @modelcontextprotocol/conformance; do
    [ -d "$HERE/node_modules/$m" ] || need_npm=1
done
if [ $need_npm -eq 1 ]; then
    echo "# installing tests/proxy Node packages (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || fatal "npm ci in tests/proxy" "$(tail -n 5 "$WORK/npm.log")"
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "# installing Debian chromium (apt-get install -y chromium)"
        (apt-get update && apt-get install -y chromium) >"$WORK/apt.log" 2>&1 || fatal "apt-get install chromium" "$(tail -n 5 "$WORK/apt.log")"
    else
        fatal "chromium is installed at $CHROMIUM" "install Debian's chromium or set CHROMIUM"
    fi
fi
export CHROMIUM
cc -shared -fPIC -O2 -o "$WORK/timeshift.so" "$HERE/timeshift.c" || fatal "timeshift.so builds"

# ---- helpers -------------------------------------------------------------------------------

# run_checks NAME SCRIPT SECONDS : runs a Node check script (killed after SECONDS), prints and
# counts its ok / not ok lines
run_checks() {
    local name=$1 script=$2 limit=$3 rc
    (cd "$HERE" && timeout -k 5 "$limit" node "$script") >"$WORK/$name.log" 2>"$WORK/$name.stderr"
    rc=$?
    cat "$WORK/$name.log"
    PASS=$((PASS + $(grep -c '^ok - ' "$WORK/$name.log")))
    FAIL=$((FAIL + $(grep -c '^not ok - ' "$WORK/$name.log")))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        bad "$script finished within ${limit} s" "$(tail -n 8 "$WORK/$name.stderr")"
    elif ! grep -q '^ok - \|^not ok - ' "$WORK/$name.log"; then
        bad "$script ran" "$(tail -n 8 "$WORK/$name.stderr")"
    fi
}

# ---- processes -----------------------------------------------------------------------------

start upstream node "$UPSTREAM" 0
UP=$(ready upstream port) || fatal "upstream started"

PM=$(free_port)
PR1=$(free_port)
PR2=$(free_port)
PR3=$(free_port)
PF=$(free_port)
PP=$(free_port)
M="http://localhost:$PM"
P="http://localhost:$PP"
R="http://localhost:$PR1"

start idp env IDP_NODE_MODULES="$HERE/node_modules" node "$IDP" --mcp-url "$M/mcp" --resource "$R/mcp" \
    --redirect-uri "$M/oauth/callback" --redirect-uri "$R/oauth/callback" --refresh-tokens
ISS=$(ready idp issuer) || fatal "IdP started"

# M (and F) and the replicas are two deployments: each has its own sealing secret
SECRET_M=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')
SECRET_R=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')
proxy_config() { # BASE SECRET EXTRA-PROXY-OPTIONS
    cat <<EOF
{"issuer":"$ISS","jwksUrl":"$ISS/jwks","baseUrl":"$1","requiredScopes":["mcp:read"],
 "scopesSupported":["mcp:read","mcp:write"],"resourceName":"Acme Notes",
 "httpTimeoutMs":3000,"httpConnectTimeoutMs":1000,
 "proxy":{"authEndpoint":"$ISS/auth","tokenEndpoint":"$ISS/token","issuer":"$ISS",
          "clientId":"mcp-test-client","clientSecret":"mcp-test-secret",
          "sealingSecret":"$2"$3}}
EOF
}
proxy_config "$M" "$SECRET_M" ',"allowLoopbackClientMetadata":true,"serverName":"Acme Notes"' >"$WORK/m.json"
proxy_config "$R" "$SECRET_R" '' >"$WORK/r.json"
proxy_config "$P" "$SECRET_M" ',"allowLoopbackClientMetadata":true,"allowedRedirectUris":["https://*.example.com/callback","http://127.0.0.1:*/callback"]' >"$WORK/p.json"

serve() { # NAME CONFIG PORT [env...]
    local name=$1 cfg=$2 port=$3
    shift 3
    start "$name" env "$@" "$MCPAUTH" serve --config "$cfg" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$port"
    ready "$name" listening >/dev/null || fatal "$name started" "$(tail -n 5 "$WORK/$name.err")"
}
serve proxyM "$WORK/m.json" "$PM"
serve proxyR1 "$WORK/r.json" "$PR1"
serve proxyR2 "$WORK/r.json" "$PR2"
serve proxyR3 "$WORK/r.json" "$PR3"
serve proxyF "$WORK/m.json" "$PF" LD_PRELOAD="$WORK/timeshift.so" MCPAUTH_TEST_TIME_OFFSET=3600
serve proxyP "$WORK/p.json" "$PP"

export M R P ISS PM PR1 PR2 PR3 PF WORK
export MCP_UPSTREAM="http://127.0.0.1:$UP"

# ---- checks --------------------------------------------------------------------------------

# time limits per script (normal runs take 3, 5, 15 and 12 s): the whole run stays < 5 min
declare -A LIMIT=([flow]=50 [attacks]=60 [browser]=75 [conformance]=95)
# PROXY_TESTS_ONLY="flow attacks" runs a subset (while developing a check script)
for part in ${PROXY_TESTS_ONLY:-flow attacks browser conformance}; do
    run_checks "$part" "$part.mjs" "${LIMIT[$part]:-60}"
done

summary
