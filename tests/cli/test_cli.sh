#!/bin/sh
# test_cli.sh - the `mcpauth verify` contract (exit codes 0/1/2, stdin mode: one JSON object
# per input line, in order) plus decode / config / mint, using tokens from `mcpauth mint`.
#
# usage: tests/cli/test_cli.sh [PATH/TO/mcpauth]     (default: $MCPAUTH or build/mcpauth)
set -u

BIN=${1:-${MCPAUTH:-build/mcpauth}}
if [ ! -x "$BIN" ]; then
    echo "test_cli: mcpauth binary not found at $BIN" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcpauth-cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
nok() { FAIL=$((FAIL + 1)); echo "FAIL - $1" >&2; }
# expect_rc NAME WANT GOT
expect_rc() { if [ "$3" -eq "$2" ]; then ok "$1 (exit $3)"; else nok "$1: exit $3, want $2"; fi; }
# expect_eq NAME WANT GOT
expect_eq() { if [ "$3" -eq "$2" ]; then ok "$1 ($3)"; else nok "$1: $3, want $2"; fi; }
# expect_match NAME PATTERN TEXT   (grep -E)
expect_match() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else nok "$1: '$3' !~ /$2/"; fi
}
expect_nomatch() {
    if printf '%s\n' "$3" | grep -Eq -- "$2"; then nok "$1: '$3' =~ /$2/"; else ok "$1"; fi
}

SECRET=0123456789abcdef0123456789abcdef
ISS=https://issuer.example
printf '%s\n' "$SECRET" >"$TMP/secret"
cat >"$TMP/cfg.json" <<JSON
{"issuer":"$ISS","secret":"$SECRET","audience":"api"}
JSON
cat >"$TMP/cfg_scope.json" <<JSON
{"issuer":"$ISS","secret":"$SECRET","audience":"api","requiredScopes":["tools:call"]}
JSON
echo '{"issuer":"'$ISS'","secret":"short"}' >"$TMP/bad.json"
echo '{"issuer":"'$ISS'","secret":"'$SECRET'","bogus":1}' >"$TMP/unknown.json"

mint() { "$BIN" mint --alg HS256 --key "$TMP/secret" "$@"; }

GOOD=$(mint --claims '{"iss":"'$ISS'","aud":"api","sub":"user-1","scope":"a b"}' --exp-in 300)
expect_rc "mint HS256" 0 $?
GOOD2=$(mint --claims '{"iss":"'$ISS'","aud":["x","api"],"sub":"user-2"}' --exp-in 300)
EXPIRED=$(mint --claims '{"iss":"'$ISS'","aud":"api","sub":"user-1"}' --exp-in -3600)
OTHERAUD=$(mint --claims '{"iss":"'$ISS'","aud":"other","sub":"user-1"}' --exp-in 300)
echo "{\"iss\":\"$ISS\",\"sub\":\"s\",\"aud\":\"api\"}" >"$TMP/claims.json"
FROMFILE=$(mint --claims @"$TMP/claims.json" --kid k9 --exp-in 60)
expect_rc "mint --claims @FILE" 0 $?

# ---- verify with TOKEN -----------------------------------------------------------------
OUT=$("$BIN" verify --config "$TMP/cfg.json" "$GOOD")
expect_rc "verify valid token" 0 $?
expect_match "valid output shape" '^\{"valid":true,"auth":\{.*"user":\{"userId":"user-1"' "$OUT"
expect_match "valid output has scopes" '"scopes":\["a","b"\]' "$OUT"
N=$(printf '%s\n' "$OUT" | wc -l)
expect_eq "valid output is one line" 1 "$N"

OUT=$("$BIN" verify --config "$TMP/cfg.json" "$EXPIRED")
expect_rc "verify expired token" 1 $?
expect_match "expired output shape" '^\{"valid":false,"error":"invalid_token","detail":"[^"]*expired' "$OUT"

OUT=$("$BIN" verify --config "$TMP/cfg.json" "$OTHERAUD")
expect_rc "verify wrong audience" 1 $?
expect_match "wrong audience detail" '"error":"invalid_token".*audience' "$OUT"

OUT=$("$BIN" verify --config "$TMP/cfg.json" "not-a-token")
expect_rc "verify garbage" 1 $?
expect_nomatch "detail never echoes the token" 'not-a-token' "$OUT"

OUT=$("$BIN" verify --config "$TMP/cfg_scope.json" "$GOOD")
expect_rc "verify insufficient scope" 1 $?
expect_match "insufficient scope output" '^\{"valid":false,"error":"insufficient_scope","detail":"[^"]*tools:call' "$OUT"

OUT=$("$BIN" verify --config "$TMP/cfg.json" --signature-only "$GOOD")
expect_rc "verify --signature-only" 0 $?
expect_match "signature-only output" '^\{"valid":true,"auth":\{"header":\{.*"payloadBase64url":"' "$OUT"

OUT=$("$BIN" verify --config "$TMP/cfg.json" --signature-only "$OTHERAUD")
expect_rc "signature-only ignores claims" 0 $?

# ---- tokens must be issued for this server ------------------------------------------------
echo '{"issuer":"'$ISS'","secret":"'$SECRET'"}' >"$TMP/noaud.json"
echo '{"issuer":"'$ISS'","secret":"'$SECRET'","allowAnyAudience":true}' >"$TMP/anyaud.json"
ERR=$("$BIN" verify --config "$TMP/noaud.json" "$GOOD" 2>&1 >/dev/null)
expect_rc "verify: a config with neither audience nor resource" 2 $?
expect_match "that error names audience and baseUrl" "'audience'.*'baseUrl'" "$ERR"
OUT=$("$BIN" verify --config "$TMP/noaud.json" --signature-only "$OTHERAUD")
expect_rc "verify --signature-only needs no audience" 0 $?
expect_match "signature-only without audience: valid" '^\{"valid":true,"auth":\{"header"' "$OUT"
printf '%s\n' "$GOOD" "$OTHERAUD" | "$BIN" verify --config "$TMP/noaud.json" --signature-only \
    >"$TMP/noaud.txt"
expect_rc "stdin --signature-only needs no audience" 0 $?
expect_match "stdin --signature-only without audience: both valid" '^2$' \
    "$(grep -c '"valid":true' "$TMP/noaud.txt")"
"$BIN" decode "$GOOD" >/dev/null
expect_rc "decode needs no configuration" 0 $?
OUT=$("$BIN" verify --config "$TMP/anyaud.json" "$OTHERAUD" 2>"$TMP/anyaud.err")
expect_rc "allowAnyAudience: a token for another audience" 0 $?
expect_match "allowAnyAudience is said on stderr" 'allowAnyAudience is true' "$(cat "$TMP/anyaud.err")"

# ---- usage and configuration errors: exit 2 ---------------------------------------------
"$BIN" verify "$GOOD" >/dev/null 2>&1
expect_rc "verify without --config" 2 $?
"$BIN" verify --config "$TMP/missing.json" "$GOOD" >/dev/null 2>&1
expect_rc "verify with a missing config file" 2 $?
"$BIN" verify --config "$TMP/bad.json" "$GOOD" >/dev/null 2>&1
expect_rc "verify with a bad config" 2 $?
ERR=$("$BIN" verify --config "$TMP/unknown.json" "$GOOD" 2>&1 >/dev/null)
expect_rc "verify with an unknown option in config" 2 $?
expect_match "config error names the option" "bogus" "$ERR"
"$BIN" verify --config "$TMP/cfg.json" --frobnicate "$GOOD" >/dev/null 2>&1
expect_rc "verify with an unknown flag" 2 $?
"$BIN" verify --config "$TMP/cfg.json" "$GOOD" "$GOOD" >/dev/null 2>&1
expect_rc "verify with two tokens" 2 $?
"$BIN" frobnicate >/dev/null 2>&1
expect_rc "unknown command" 2 $?

# ---- verify from stdin ------------------------------------------------------------------
LONG=$(head -c 70000 /dev/zero | tr '\0' 'A')
printf '%s\n%s\n%s\r\n\n%s\n%s\n%s' "$GOOD" "garbage" "$GOOD2" "$LONG" "$EXPIRED" "$GOOD" \
    >"$TMP/in.txt"
"$BIN" verify --config "$TMP/cfg.json" <"$TMP/in.txt" >"$TMP/out.txt"
expect_rc "verify stdin mode" 0 $?
N=$(wc -l <"$TMP/out.txt")
expect_eq "stdin: one output line per input line" 7 "$N"
L() { sed -n "$1p" "$TMP/out.txt"; }
expect_match "stdin line 1 valid" '^\{"valid":true,"auth":\{.*"user":\{"userId":"user-1"' "$(L 1)"
expect_match "stdin line 2 garbage" '^\{"valid":false,"error":"invalid_token"' "$(L 2)"
expect_match "stdin line 3 CRLF valid" '^\{"valid":true,"auth":\{.*"user":\{"userId":"user-2"' "$(L 3)"
expect_match "stdin line 4 empty" '^\{"valid":false,"error":"invalid_token"' "$(L 4)"
expect_match "stdin line 5 overlong" '^\{"valid":false,"error":"invalid_token","detail":"[^"]*size' "$(L 5)"
expect_match "stdin line 6 expired" '^\{"valid":false,"error":"invalid_token","detail":"[^"]*expired' "$(L 6)"
expect_match "stdin line 7 (no final newline) valid" '^\{"valid":true' "$(L 7)"

: | "$BIN" verify --config "$TMP/cfg.json" >"$TMP/empty.txt"
expect_rc "stdin: empty input" 0 $?
N=$(wc -c <"$TMP/empty.txt")
expect_eq "stdin: empty input gives no output" 0 "$N"

printf '%s\n' "$GOOD" "$OTHERAUD" | "$BIN" verify --config "$TMP/cfg.json" --signature-only \
    >"$TMP/sig.txt"
expect_rc "stdin --signature-only" 0 $?
expect_match "stdin --signature-only both valid" '^2$' "$(grep -c '"valid":true' "$TMP/sig.txt")"

# A token whose payload JSON holds spaces and newlines (as some issuers write it) gets one
# answer line like any other: the lines after it stay with their own tokens.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
if command -v openssl >/dev/null 2>&1; then
    H=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
    EXP=$(($(date +%s) + 300))
    P=$(printf '{\n  "iss": "%s",\n  "aud": "api",\r\n  "sub": "user-nl",\n  "exp": %s\n}\n' \
        "$ISS" "$EXP" | b64url)
    S=$(printf '%s.%s' "$H" "$P" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)
    PRETTY="$H.$P.$S"
    printf '%s\n' "$PRETTY" "garbage" "$GOOD" "$PRETTY" |
        "$BIN" verify --config "$TMP/cfg.json" >"$TMP/pretty.txt"
    expect_rc "stdin: pretty-printed payload" 0 $?
    expect_eq "stdin: pretty-printed payload, one line per token" 4 "$(wc -l <"$TMP/pretty.txt")"
    expect_match "stdin: pretty-printed payload valid" \
        '^\{"valid":true,"auth":\{.*"user":\{"userId":"user-nl".*"payload":\{ *"iss"' \
        "$(sed -n 1p "$TMP/pretty.txt")"
    expect_match "stdin: the line after it answers its own token" '^\{"valid":false' \
        "$(sed -n 2p "$TMP/pretty.txt")"
    expect_match "stdin: the third answer is the third token's" '"userId":"user-1"' \
        "$(sed -n 3p "$TMP/pretty.txt")"
    expect_match "stdin: pretty-printed payload valid again" '"userId":"user-nl"' \
        "$(sed -n 4p "$TMP/pretty.txt")"
    OUT=$("$BIN" verify --config "$TMP/cfg.json" "$PRETTY")
    expect_eq "verify TOKEN: pretty-printed payload, one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"
else
    echo "skip - openssl tool not found: pretty-printed payload checks skipped"
fi

# A client that writes one token and waits gets its answer before it writes the next.
( printf '%s\n' "$GOOD"; sleep 4; printf '%s\n' "$GOOD" ) |
    "$BIN" verify --config "$TMP/cfg.json" >"$TMP/inter.txt" &
IPID=$!
sleep 2
expect_eq "stdin: the answer is written while the input is still open" 1 \
    "$(wc -l <"$TMP/inter.txt")"
wait $IPID
expect_eq "stdin: then the second answer" 2 "$(wc -l <"$TMP/inter.txt")"

# ---- decode / config / version ------------------------------------------------------------
OUT=$("$BIN" decode "$FROMFILE")
expect_rc "decode" 0 $?
expect_match "decode marks unverified" '"verified": false' "$OUT"
expect_match "decode shows kid" '"kid": "k9"' "$OUT"
"$BIN" decode "x.y" >/dev/null 2>&1
expect_rc "decode garbage" 1 $?

OUT=$("$BIN" config --config "$TMP/cfg.json")
expect_rc "config" 0 $?
expect_match "config shows issuer" "\"issuer\": \"$ISS\"" "$OUT"
expect_match "config masks the secret" '"secret": "<set>"' "$OUT"
expect_nomatch "config never prints the secret" "$SECRET" "$OUT"

OUT=$(MCP_USE_OAUTH_AUTH0_DOMAIN=t.auth0.com MCP_USE_OAUTH_AUTH0_AUDIENCE=api \
    "$BIN" config --config /dev/stdin <<JSON
{"provider":"auth0"}
JSON
)
expect_rc "config from env (auth0 zero-config)" 0 $?
expect_match "env-derived issuer" '"issuer": "https://t.auth0.com/"' "$OUT"

OUT=$("$BIN" --version)
expect_rc "--version" 0 $?
expect_match "--version output" '^mcpauth [0-9]+\.[0-9]+\.[0-9]+' "$OUT"

# ---- RS256 through a PEM key (when the openssl tool is available) --------------------------
if command -v openssl >/dev/null 2>&1; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.pem" 2>/dev/null
    openssl pkey -in "$TMP/rsa.pem" -pubout -out "$TMP/rsa.pub" 2>/dev/null
    PUB=$(awk 'BEGIN{ORS="\\n"} {print}' "$TMP/rsa.pub")
    printf '{"issuer":"%s","audience":"api","publicKey":"%s"}\n' "$ISS" "$PUB" >"$TMP/cfg_rsa.json"
    RS=$("$BIN" mint --alg RS256 --key "$TMP/rsa.pem" --kid r1 \
        --claims '{"iss":"'$ISS'","aud":"api","sub":"rsa-user"}' --exp-in 120)
    OUT=$("$BIN" verify --config "$TMP/cfg_rsa.json" "$RS")
    expect_rc "verify RS256 via publicKey" 0 $?
    expect_match "RS256 user" '"userId":"rsa-user"' "$OUT"
    "$BIN" verify --config "$TMP/cfg.json" "$RS" >/dev/null
    expect_rc "RS256 token against an HMAC-only config" 1 $?
else
    echo "skip - openssl tool not found: RS256 checks skipped"
fi

echo "test_cli: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
