#!/usr/bin/env bash
# run.sh - real-HTTP tests of `mcpauth serve` (the HTTP surface end to end).
#
#   tests/http/run.sh /path/to/built/mcpauth
#
# Builds nothing. Installs the Node packages of tests/http (npm ci) only when node_modules is
# missing. Starts on 127.0.0.1 ephemeral ports:
#   - upstream.mjs        a trivial MCP-shaped server (JSON-RPC over POST /mcp, SSE, echo)
#   - proxy A             mcpauth serve, local ES256 keys, scopes per server and per MCP method,
#                         synthesized AS metadata (its issuer does not answer)
#   - tests/idp/idp.mjs   oidc-provider with JWT access tokens for proxy B's /mcp
#   - proxy B             mcpauth serve in remote-auth mode against the IdP (jwksUrl, mirrored
#                         AS metadata)
#   - proxy C             mcpauth serve whose upstream is down (502)
#   - proxy D             proxy A's config with short deadlines (--upstream-timeout 1
#                         --header-timeout 1 --body-timeout 1), --forward-authorization and
#                         --verbose
# then checks the wire format with curl, discovery with the MCP TypeScript SDK, and the
# SDK's OAuth flow against the IdP. Everything is killed on exit. Prints "N passed, M failed"
# and exits non-zero on any failure.
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 /path/to/mcpauth" >&2
    exit 2
fi
MCPAUTH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
IDP="$HERE/../idp/idp.mjs"
WORK="$HERE/.run"
rm -rf "$WORK"
mkdir -p "$WORK"

# cleanup/traps, ok/bad/summary/fatal, free_port, start, ready
. "$HERE/../lib/common.sh"

expect_eq() { # NAME GOT WANT
    if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got [$2] want [$3]"; fi
}

command -v node >/dev/null || fatal "node is installed"
command -v curl >/dev/null || fatal "curl is installed"
if [ ! -d "$HERE/node_modules/@modelcontextprotocol/sdk" ] || [ ! -d "$HERE/node_modules/oidc-provider" ]; then
    echo "# installing tests/http Node packages (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || fatal "npm ci in tests/http" "$(tail -n 5 "$WORK/npm.log")"
fi

# ---- helpers -------------------------------------------------------------------------------

# http METHOD URL [curl args...] : sets STATUS, BODY; headers in $WORK/hdrs
http() {
    local m=$1 u=$2
    shift 2
    local mflag=(-X "$m")
    [ "$m" == "HEAD" ] && mflag=(--head)
    STATUS=$(curl -s --max-time 10 -o "$WORK/body" -D "$WORK/hdrs" -w '%{http_code}' "${mflag[@]}" "$@" "$u")
    BODY=$(cat "$WORK/body")
}
hdr() { grep -i "^$1:" "$WORK/hdrs" | head -n1 | sed -e 's/^[^:]*: *//' -e 's/\r$//'; }
jsonq() { # JSON-TEXT JS-EXPRESSION-ON-d
    node -e 'const d=JSON.parse(process.argv[1]);console.log((0,eval)("(d)=>"+process.argv[2])(d))' "$1" "$2" 2>/dev/null
}

# ---- keys, tokens, upstream ----------------------------------------------------------------

JWKS=$(node "$HERE/jwt.mjs" keygen "$WORK/keys.json") || fatal "test keys generated"
start upstream node "$HERE/upstream.mjs" 0
UP=$(ready upstream port) || fatal "upstream started"

PA=$(free_port)
PB=$(free_port)
PC=$(free_port)
DEAD=$(free_port) # nothing listens here: proxy A's issuer
A="http://127.0.0.1:$PA"
B="http://127.0.0.1:$PB"
C="http://127.0.0.1:$PC"
ISS_A="http://127.0.0.1:$DEAD"
PRM_A="$A/.well-known/oauth-protected-resource/mcp"

NOW=$(date +%s)
mint() { # SCOPE AUD EXP
    node "$HERE/jwt.mjs" mint "$WORK/keys.json" "{\"iss\":\"$ISS_A\",\"aud\":\"$2\",\"sub\":\"user-1\",\"email\":\"u@example.com\",\"iat\":$NOW,\"exp\":$3,\"scope\":\"$1\"}"
}
TOKEN_READ=$(mint "mcp:read" "$A/mcp" $((NOW + 600)))
TOKEN_ALL=$(mint "mcp:read mcp:tools" "$A/mcp" $((NOW + 600)))
TOKEN_EXPIRED=$(mint "mcp:read" "$A/mcp" $((NOW - 3600)))
TOKEN_OTHER=$(mint "mcp:read" "http://127.0.0.1:1/mcp" $((NOW + 600)))

cat >"$WORK/a.json" <<EOF
{"issuer":"$ISS_A","jwks":$JWKS,"baseUrl":"$A","requiredScopes":["mcp:read"],
 "routeScopes":{"tools/call":["mcp:tools"]},"scopesSupported":["mcp:read","mcp:tools"],
 "resourceName":"mcpauth HTTP test","authorizationEndpoint":"$ISS_A/authorize",
 "tokenEndpoint":"$ISS_A/token","httpTimeoutMs":1000,"httpConnectTimeoutMs":500}
EOF
start proxyA "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$PA"
ready proxyA listening >/dev/null || fatal "proxy A started"
start proxyC "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$DEAD" --listen "127.0.0.1:$PC"
ready proxyC listening >/dev/null || fatal "proxy C started"
PD=$(free_port)
D="http://127.0.0.1:$PD"
start proxyD "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$PD" \
    --upstream-timeout 1 --header-timeout 1 --body-timeout 1 --forward-authorization --verbose
ready proxyD listening >/dev/null || fatal "proxy D started"

# ---- curl: challenges ----------------------------------------------------------------------

RPC='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
JSONH=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream')

http POST "$A/mcp" "${JSONH[@]}" --data "$RPC"
expect_eq "401 without a token" "$STATUS" 401
expect_eq "401 no-credentials challenge (no error parameter)" "$(hdr WWW-Authenticate)" \
    "Bearer resource_metadata=\"$PRM_A\", scope=\"mcp:read\""
expect_eq "401 body" "$BODY" '{"error_description":"no access token was presented"}'
expect_eq "401 content type" "$(hdr Content-Type)" "application/json"
expect_eq "401 exposes WWW-Authenticate to browsers" "$(hdr Access-Control-Expose-Headers)" "WWW-Authenticate"

http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_EXPIRED" --data "$RPC"
expect_eq "expired token: 401 invalid_token" "$STATUS $(hdr WWW-Authenticate)" \
    "401 Bearer error=\"invalid_token\", error_description=\"token has expired\", resource_metadata=\"$PRM_A\", scope=\"mcp:read\""
http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_OTHER" --data "$RPC"
expect_eq "token for another resource: 401 invalid_token" "$STATUS $(hdr WWW-Authenticate)" \
    "401 Bearer error=\"invalid_token\", error_description=\"token audience or resource mismatch\", resource_metadata=\"$PRM_A\", scope=\"mcp:read\""
http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Basic dXNlcjpwYXNz" --data "$RPC"
expect_eq "malformed Authorization: 401 invalid_request" "$STATUS $(hdr WWW-Authenticate)" \
    "401 Bearer error=\"invalid_request\", error_description=\"malformed Authorization header\", resource_metadata=\"$PRM_A\", scope=\"mcp:read\""
http POST "$A/mcp?access_token=$TOKEN_ALL" "${JSONH[@]}" --data "$RPC"
expect_eq "token in the query: 400 invalid_request" "$STATUS $(hdr WWW-Authenticate)" \
    "400 Bearer error=\"invalid_request\", error_description=\"access token in the query string is refused\", resource_metadata=\"$PRM_A\", scope=\"mcp:read\""
expect_eq "token in the query: body" "$BODY" \
    '{"error":"invalid_request","error_description":"access token in the query string is refused"}'
http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_READ" --data "$CALL"
expect_eq "tools/call without its scope: 403 insufficient_scope" "$STATUS $(hdr WWW-Authenticate)" \
    "403 Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:tools\", resource_metadata=\"$PRM_A\", error_description=\"insufficient scope\""
expect_eq "403 body" "$BODY" '{"error":"insufficient_scope","error_description":"insufficient scope"}'
http HEAD "$A/mcp"
expect_eq "HEAD /mcp is not exempt" "$STATUS" 401
http POST "$A/%6dcp" "${JSONH[@]}" --data "$RPC"
expect_eq "percent-encoded /mcp is protected" "$STATUS" 401
http POST "$A/mcp/sub/path" "${JSONH[@]}" --data "$RPC"
expect_eq "paths under /mcp are protected" "$STATUS" 401
http POST "$A/mcpx" "${JSONH[@]}" --data "$RPC"
expect_eq "/mcpx is not under /mcp (upstream answers)" "$STATUS $BODY" "404 not found"

# ---- curl: pass with auth --------------------------------------------------------------------

http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_READ" --data "$RPC"
expect_eq "good token: initialize reaches the upstream" "$STATUS $(jsonq "$BODY" 'd.result.serverInfo.name')" \
    "200 mcpauth-test-upstream"
http POST "$A/mcp" "${JSONH[@]}" -H "authorization: bearer $TOKEN_ALL" --data "$CALL"
WHO=$(jsonq "$BODY" 'd.result.content[0].text')
expect_eq "tools/call with its scope: upstream sees X-MCPAuth-User" "$STATUS $(jsonq "$WHO" 'd.user')" "200 user-1"
expect_eq "X-MCPAuth-Auth carries the auth result" "$(jsonq "$WHO" 'd.auth.user.userId+" "+d.auth.scopes.join(",")+" "+d.auth.resource')" \
    "user-1 mcp:read,mcp:tools $A/mcp"
expect_eq "the bearer token is not forwarded" "$(jsonq "$WHO" 'd.authorization')" "null"

http POST "$A/mcp/echo" -H "Authorization: Bearer $TOKEN_READ" --data 'not json'
expect_eq "unparseable body: every MCP-method scope applies (fail closed)" "$STATUS $(hdr WWW-Authenticate)" \
    "403 Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:tools\", resource_metadata=\"$PRM_A\", error_description=\"insufficient scope\""
http POST "$A/mcp/echo" -H "Authorization: Bearer $TOKEN_ALL" -H "X-MCPAuth-User: mallory" \
    -H "X-MCPAuth-Auth: e30" -H "Connection: keep-alive, X-Drop" -H "X-Drop: 1" -H "X-Keep: yes" --data 'hello'
expect_eq "spoofed X-MCPAuth-* replaced on protected paths" \
    "$(jsonq "$BODY" 'd.headers["x-mcpauth-user"]+" "+JSON.parse(Buffer.from(d.headers["x-mcpauth-auth"],"base64url")).user.userId')" \
    "user-1 user-1"
expect_eq "hop-by-hop headers dropped, others kept, body forwarded" \
    "$(jsonq "$BODY" '[d.headers["x-drop"],d.headers["x-keep"],d.headers.authorization,d.body,d.method].join("|")')" \
    "|yes||hello|POST"
http GET "$A/echo?a=1&b=%2F" -H "X-MCPAuth-User: mallory" -H "X-MCPAuth-Auth: e30"
expect_eq "unprotected path: passes, spoofed X-MCPAuth-* removed, raw query kept" \
    "$(jsonq "$BODY" '[d.url,d.headers["x-mcpauth-user"],d.headers["x-mcpauth-auth"],d.headers["x-forwarded-for"]].join("|")')" \
    "/echo?a=1&b=%2F|||127.0.0.1"
expect_eq "upstream response headers are relayed" "$(hdr X-Upstream)" "yes"

# ---- curl: streaming, limits, upstream failure ---------------------------------------------

curl -sN --max-time 1 -H "Authorization: Bearer $TOKEN_READ" "$A/mcp/stream" >"$WORK/sse1" 2>/dev/null
if grep -q 'data: {"n":1}' "$WORK/sse1" && ! grep -q 'data: {"n":2}' "$WORK/sse1"; then
    ok "SSE: the first event arrives before the stream ends (streamed, not buffered)"
else
    bad "SSE: the first event arrives before the stream ends (streamed, not buffered)" "$(cat "$WORK/sse1")"
fi
curl -sN --max-time 10 -D "$WORK/sseh" -H "Authorization: Bearer $TOKEN_READ" "$A/mcp/stream" >"$WORK/sse2"
expect_eq "SSE: the whole stream is relayed" "$(grep -c '^data: ' "$WORK/sse2") $(grep -i '^content-type:' "$WORK/sseh" | tr -d '\r' | sed 's/^[^:]*: *//')" \
    "2 text/event-stream"

curl -sN --max-time 1 -H "Authorization: Bearer $TOKEN_READ" "$A/mcp/idle" >"$WORK/idle" 2>/dev/null
sleep 1.5
expect_eq "SSE: a client that leaves an idle stream releases the upstream connection" \
    "$(grep -c idle "$WORK/idle") $(curl -s --max-time 5 "http://127.0.0.1:$UP/stats")" \
    '1 {"idleOpen":1,"idleClosed":1}'

head -c 5000000 /dev/zero | tr '\0' 'a' >"$WORK/big"
http POST "$A/echo" --data-binary "@$WORK/big"
expect_eq "request body over 4 MiB: 413" "$STATUS" 413
http POST "$C/echo" --data 'x'
expect_eq "upstream down: 502" "$STATUS $BODY" '502 {"error":"bad_gateway","error_description":"upstream server unavailable"}'

# ---- flags -----------------------------------------------------------------------------------

for v in abc 1e6 -1 "" 12x 99999999999999999999999; do
    OUT=$(timeout 5 "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" \
        --listen 127.0.0.1:0 --max-body "$v" 2>&1 >/dev/null)
    expect_eq "--max-body '$v' refused with a clear error" "$? $(echo "$OUT" | grep -c 'must be a whole number')" "2 1"
done
OUT=$(timeout 5 "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" \
    --listen 127.0.0.1:0 --upstream-timeout 0 2>&1 >/dev/null)
expect_eq "--upstream-timeout 0 refused" "$? $(echo "$OUT" | grep -c 'upstream-timeout must be')" "2 1"
OUT=$(timeout 5 "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" --listen 127.0.0.1:1x 2>&1 >/dev/null)
expect_eq "--listen with a bad port refused" "$?" 2
head -c 2000 /dev/zero | tr '\0' 'b' >"$WORK/2k"
start proxySmall "$MCPAUTH" serve --config "$WORK/a.json" --upstream "http://127.0.0.1:$UP" --listen 127.0.0.1:0 --max-body 1000
SMALL=$(ready proxySmall listening) || fatal "proxy with --max-body 1000 started"
http POST "$SMALL/echo" --data-binary "@$WORK/2k"
expect_eq "--max-body 1000 refuses 2000 bytes (413)" "$STATUS" 413
http POST "$SMALL/echo" --data 'small'
expect_eq "--max-body 1000 passes 5 bytes" "$STATUS $(jsonq "$BODY" 'd.body')" "200 small"

# ---- what reaches the upstream ---------------------------------------------------------------

http POST "$A/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_ALL" --data "$CALL"
WHO=$(jsonq "$BODY" 'd.result.content[0].text')
expect_eq "X-MCPAuth-Auth has no access token without --forward-authorization" \
    "$STATUS $(jsonq "$WHO" 'd.auth.user.userId+" "+("accessToken" in d.auth)') $(grep -c -- "$TOKEN_ALL" <<<"$BODY")" \
    "200 user-1 false 0"
http POST "$D/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_ALL" --data "$CALL"
WHO=$(jsonq "$BODY" 'd.result.content[0].text')
expect_eq "with --forward-authorization the token reaches the upstream (header and auth result)" \
    "$STATUS $(jsonq "$WHO" '(d.authorization===("Bearer "+d.auth.accessToken))+" "+(d.auth.accessToken.length>20)')" \
    "200 true true"
for path in /mcp/echo /echo; do
    http POST "$A$path" -H "Authorization: Bearer $TOKEN_ALL" -H "X_MCPAuth_User: mallory" -H "x_mcpauth_auth: e30" \
        -H "X-MCPAuth-Foo: 1" -H "X-MCPAUTH-ROLE: admin" -H "x-mcpauth_scopes: all" -H "X_Forwarded_For: 10.0.0.1" \
        -H "X-Keep_Me: yes" --data 'hi'
    want="x-mcpauth-auth,x-mcpauth-user|user-1"
    [ "$path" == /echo ] && want="|undefined"
    expect_eq "$path: reserved X-MCPAuth- prefix dropped in every spelling" \
        "$STATUS $(jsonq "$BODY" 'Object.keys(d.headers).filter(k=>/^x[-_]mcpauth[-_]/.test(k)).sort().join(",")+"|"+d.headers["x-mcpauth-user"]+"|"+d.headers["x_forwarded_for"]+"|"+d.headers["x-keep_me"]')" \
        "200 $want|undefined|yes"
done
http POST "$D/mcp?access_token=$TOKEN_ALL&x=1" "${JSONH[@]}" --data "$RPC"
http GET "$D/echo?code=secret-code-123"
sleep 0.2
if grep -q "$TOKEN_ALL\|secret-code-123\|access_token" "$WORK/proxyD.err"; then
    bad "--verbose never logs tokens or query strings" "$(grep -m2 'access_token\|secret' "$WORK/proxyD.err" | cut -c1-120)"
else
    expect_eq "--verbose never logs tokens or query strings (query redacted)" \
        "$(grep -c '^POST /mcp?<redacted> -> 400$' "$WORK/proxyD.err") $(grep -c '^GET /echo?<redacted> -> 200 (upstream)$' "$WORK/proxyD.err")" "1 1"
fi
http OPTIONS "$A/mcp/echo" -H "Origin: https://app.example" -H "Access-Control-Request-Method: POST" \
    -H "X-HTTP-Method-Override: DELETE" -H "X-Method-Override: DELETE" -H "X-HTTP-Method: DELETE" \
    -H "Content-Type: text/plain" --data 'smuggled body'
expect_eq "unauthenticated preflight on a protected path: no body, no method override upstream" \
    "$STATUS $(jsonq "$BODY" '[d.method,JSON.stringify(d.body),d.headers["x-http-method-override"],d.headers["x-method-override"],d.headers["x-http-method"],d.headers["content-length"]??"0"].join("|")')" \
    '200 OPTIONS|""||||0'
http POST "$A/echo" -H "X-HTTP-Method-Override: DELETE" --data 'x'
expect_eq "unauthenticated request: method-override headers stripped" \
    "$STATUS $(jsonq "$BODY" 'String(d.headers["x-http-method-override"])')" "200 undefined"

# ---- which resource a token must be for (trustHostHeader) -----------------------------------

PE=$(free_port)
PF=$(free_port)
E="http://127.0.0.1:$PE"
F="http://127.0.0.1:$PF"
host_config() { # EXTRA-MEMBERS
    cat <<EOF
{"issuer":"$ISS_A","jwks":$JWKS,"trustHostHeader":true,"requiredScopes":["mcp:read"],
 "authorizationEndpoint":"$ISS_A/authorize","tokenEndpoint":"$ISS_A/token"$1}
EOF
}
host_config '' >"$WORK/f.json"
host_config ",\"trustedProxies\":[\"127.0.0.2\"],\"allowedHosts\":[\"127.0.0.1:$PE\",\"a.example\"]" >"$WORK/e.json"
start proxyE "$MCPAUTH" serve --config "$WORK/e.json" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$PE"
ready proxyE listening >/dev/null || fatal "proxy E (trustedProxies, allowedHosts) started"
start proxyF "$MCPAUTH" serve --config "$WORK/f.json" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$PF"
ready proxyF listening >/dev/null || fatal "proxy F (trustHostHeader alone) started"
TOKEN_AEX=$(mint "mcp:read" "http://a.example/mcp" $((NOW + 600)))
TOKEN_BEX=$(mint "mcp:read" "https://b.example/mcp" $((NOW + 600)))
TOKEN_F=$(mint "mcp:read" "$F/mcp" $((NOW + 600)))
PING='{"jsonrpc":"2.0","id":1,"method":"ping"}'
http POST "$F/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_F" --data "$PING"
expect_eq "trustHostHeader: a token for this host passes" "$STATUS" 200
http POST "$F/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_AEX" -H "X-Forwarded-Host: a.example" \
    -H "X-Forwarded-Proto: http" --data "$PING"
expect_eq "X-Forwarded-Host from a client that is no trusted proxy cannot choose another server's resource" \
    "$STATUS" 401
http POST "$E/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_AEX" -H "X-Forwarded-Host: a.example" \
    -H "X-Forwarded-Proto: http" --data "$PING" --interface 127.0.0.2
expect_eq "X-Forwarded-Host/-Proto from a trusted proxy (peer 127.0.0.2) choose the resource" "$STATUS" 200
http POST "$E/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_AEX" -H "X-Forwarded-Host: a.example" \
    -H "X-Forwarded-Proto: http" --data "$PING"
expect_eq "... and from an untrusted peer (127.0.0.1) they are ignored" "$STATUS" 401
http POST "$E/mcp" "${JSONH[@]}" -H "Authorization: Bearer $TOKEN_BEX" -H "Host: b.example" --data "$PING"
expect_eq "a Host outside allowedHosts is refused (400), whatever the token" "$STATUS" 400
http GET "$E/.well-known/oauth-protected-resource/mcp" -H "Host: b.example"
expect_eq "... metadata too" "$STATUS" 400

# ---- raw sockets: framing, slow clients, stuck upstream --------------------------------------

(cd "$HERE" && PROXY="$A" PROXYD="$D" UPSTREAM="http://127.0.0.1:$UP" TOKEN="$TOKEN_READ" \
    node checks_hardening.mjs) >"$WORK/hard.log" 2>"$WORK/hard.err"
cat "$WORK/hard.log"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/hard.log")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$WORK/hard.log")))
grep -q '^ok - \|^not ok - ' "$WORK/hard.log" || bad "checks_hardening.mjs ran" "$(tail -n 5 "$WORK/hard.err")"

# ---- curl: metadata --------------------------------------------------------------------------

PRM_DOC="{\"resource\":\"$A/mcp\",\"authorization_servers\":[\"$ISS_A\"],\"scopes_supported\":[\"mcp:read\",\"mcp:tools\"],\"bearer_methods_supported\":[\"header\"],\"resource_name\":\"mcpauth HTTP test\"}"
http GET "$PRM_A"
expect_eq "PRM path-inserted: 200 document" "$STATUS $BODY" "200 $PRM_DOC"
expect_eq "PRM: CORS open" "$(hdr Access-Control-Allow-Origin) $(hdr Content-Type)" "* application/json"
http GET "$A/.well-known/oauth-protected-resource"
expect_eq "PRM root: 200 document" "$STATUS $BODY" "200 $PRM_DOC"
http HEAD "$PRM_A"
expect_eq "PRM HEAD" "$STATUS $(hdr Access-Control-Allow-Origin)" "200 *"
http OPTIONS "$PRM_A" -H "Origin: https://app.example" -H "Access-Control-Request-Method: GET" \
    -H "Access-Control-Request-Headers: mcp-protocol-version"
expect_eq "PRM preflight" \
    "$STATUS|$(hdr Access-Control-Allow-Origin)|$(hdr Access-Control-Allow-Methods)|$(hdr Access-Control-Allow-Headers)|$(hdr Access-Control-Max-Age)" \
    "204|*|GET, HEAD, OPTIONS|mcp-protocol-version|86400"
http POST "$PRM_A" --data x
expect_eq "PRM POST: 405 with Allow" "$STATUS $(hdr Allow)" "405 GET, HEAD, OPTIONS"
http GET "$A/.well-known/oauth-authorization-server"
expect_eq "AS metadata synthesized when the issuer does not answer" "$STATUS $BODY" \
    "200 {\"issuer\":\"$ISS_A\",\"authorization_endpoint\":\"$ISS_A/authorize\",\"token_endpoint\":\"$ISS_A/token\",\"scopes_supported\":[\"mcp:read\",\"mcp:tools\"],\"response_types_supported\":[\"code\"],\"grant_types_supported\":[\"authorization_code\",\"refresh_token\"],\"code_challenge_methods_supported\":[\"S256\"]}"

# ---- the MCP SDK against proxy A -------------------------------------------------------------

(cd "$HERE" && PROXY="$A" ISSUER="$ISS_A" TOKEN_READ="$TOKEN_READ" TOKEN_ALL="$TOKEN_ALL" \
    node checks_sdk.mjs) >"$WORK/sdk.log" 2>"$WORK/sdk.err"
cat "$WORK/sdk.log"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/sdk.log")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$WORK/sdk.log")))
grep -q '^ok - \|^not ok - ' "$WORK/sdk.log" || bad "checks_sdk.mjs ran" "$(tail -n 5 "$WORK/sdk.err")"

# ---- the OpenID provider and proxy B ---------------------------------------------------------

REDIRECT="http://127.0.0.1:9/callback"
OTHER="$B/other-mcp"
start idp node "$IDP" --mcp-url "$B/mcp" --resource "$OTHER" --redirect-uri "$REDIRECT"
ISS=$(ready idp issuer) || fatal "IdP started"
cat >"$WORK/b.json" <<EOF
{"issuer":"$ISS","jwksUrl":"$ISS/jwks","baseUrl":"$B","requiredScopes":["mcp:read"],
 "scopesSupported":["mcp:read","mcp:write"]}
EOF
start proxyB "$MCPAUTH" serve --config "$WORK/b.json" --upstream "http://127.0.0.1:$UP" --listen "127.0.0.1:$PB"
ready proxyB listening >/dev/null || fatal "proxy B started"

http POST "$B/mcp" "${JSONH[@]}" --data "$RPC"
expect_eq "remote auth: 401 challenge" "$STATUS $(hdr WWW-Authenticate)" \
    "401 Bearer resource_metadata=\"$B/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:read\""
(cd "$HERE" && PROXY="$B" ISSUER="$ISS" CLIENT_ID=mcp-test-client CLIENT_SECRET=mcp-test-secret \
    REDIRECT_URI="$REDIRECT" OTHER_RESOURCE="$OTHER" node checks_idp.mjs) >"$WORK/idp.log" 2>"$WORK/idp-checks.err"
cat "$WORK/idp.log"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/idp.log")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$WORK/idp.log")))
grep -q '^ok - \|^not ok - ' "$WORK/idp.log" || bad "checks_idp.mjs ran" "$(tail -n 5 "$WORK/idp-checks.err")"

# ---- clean shutdown --------------------------------------------------------------------------

PIDA=${PIDS[1]}
curl -sN --max-time 20 -H "Authorization: Bearer $TOKEN_READ" "$A/mcp/idle" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
kill -TERM "$PIDA"
for _ in $(seq 1 100); do kill -0 "$PIDA" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$PIDA" 2>/dev/null; then
    bad "SIGTERM stops mcpauth serve within 5 s (with an open stream)"
else
    wait "$PIDA"
    expect_eq "SIGTERM stops mcpauth serve cleanly with an open stream (exit 0)" "$?" 0
fi

summary
