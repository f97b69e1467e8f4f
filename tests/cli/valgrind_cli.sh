#!/usr/bin/env bash
# Runs the mcpauth CLI under valgrind memcheck on valid and hostile tokens. Any memory error or
# definite/indirect leak fails the run.
set -euo pipefail
bin=${1:?usage: valgrind_cli.sh path/to/mcpauth}
bin=$(realpath "$bin")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
openssl pkey -in rsa.pem -pubout -out rsa.pub
now=$(date +%s)
cat > cfg.json <<JSON
{"provider":"jwks","issuer":"https://issuer.test","audience":"https://mcp.test/mcp",
 "publicKey":$(python3 -c 'import json,sys;print(json.dumps(open("rsa.pub").read()))'),
 "algorithms":["RS256"],"requiredScopes":["mcp:read"]}
JSON
claims() { printf '{"iss":"https://issuer.test","aud":"https://mcp.test/mcp","sub":"u1","scope":"mcp:read","exp":%s,"iat":%s}' "$1" "$now"; }
"$bin" mint --alg RS256 --key rsa.pem --claims "$(claims $((now + 600)))" > valid.tok
"$bin" mint --alg RS256 --key rsa.pem --claims "$(claims $((now - 600)))" > expired.tok
valid=$(cat valid.tok)
h=$(printf '{"alg":"none"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
p=${valid#*.}; p=${p%%.*}
# over the 16 KiB cap; a single argv string is limited to 128 KiB, stdin lines are not
big=$(head -c 30000 /dev/zero | tr '\0' 'A')
huge=$(head -c 300000 /dev/zero | tr '\0' 'A')
{
  cat valid.tok; echo
  cat expired.tok; echo
  echo "$h.$p."
  echo "$h.$p.c2ln"
  echo "not-a-token"
  echo "a.b.c.d.e"
  echo "...."
  echo "$big.$big.$big"
  echo "$huge.$huge.$huge"
  echo "${valid}x"
  echo ""
} > tokens.txt

vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
fail=0
run() { # run EXPECTED_EXIT args...
  local want=$1; shift
  set +e; "${vg[@]}" "$bin" "$@" >out.txt 2>err.txt; local rc=$?; set -e
  if [ "$rc" != "$want" ]; then
    echo "FAIL: mcpauth $1 (exit $rc, want $want)"; cat err.txt | head -40; fail=1
  else echo "ok: mcpauth $1 -> $rc"; fi
}
run 0 verify --config cfg.json "$valid"
run 1 verify --config cfg.json "$(cat expired.tok)"
run 1 verify --config cfg.json "$h.$p."
run 1 verify --config cfg.json "$big.$big.$big"
run 0 verify --config cfg.json < tokens.txt
run 0 verify --config cfg.json --signature-only < tokens.txt
run 2 verify --config /nonexistent.json "$valid"
run 0 decode "$valid"
run 0 config --config cfg.json
[ $fail -eq 0 ] && echo "valgrind-cli: clean" || { echo "valgrind-cli: errors"; exit 1; }
