#!/usr/bin/env bash
# Tests the Python binding the way a user installs it: a fresh venv, `pip install ./python`
# (scikit-build-core builds the C core and bundles libmcpauth.so.1), the pinned test
# dependencies, then pytest on python/tests against the installed package (not the sources).
# Usage: bash python/scripts/test.sh [pytest args...]
#   MCPAUTH_PY_VENV=dir   venv location (default: python/.venv-test, recreated each run)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${MCPAUTH_PY_VENV:-$PWD/.venv-test}

"$PY" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements-test.txt
"$VENV/bin/python" -m pip install -q .
"$VENV/bin/python" -c 'import libmcpauth, sys; print("libmcpauth", libmcpauth.__version__, "core", libmcpauth.core_version(), "from", libmcpauth.library_path())'

# the local OpenID provider of the end-to-end tests (tests/idp/idp.mjs) loads npm
# oidc-provider from tests/http/node_modules
NODE_DIR=../tests/http
if [ -f "$NODE_DIR/package.json" ] && [ ! -d "$NODE_DIR/node_modules/oidc-provider" ] && command -v npm >/dev/null; then
  (cd "$NODE_DIR" && if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else
     npm install --silent --no-audit --no-fund; fi) ||
    echo "test.sh: npm install in tests/http failed; the IdP end-to-end tests will skip"
fi

unset MCPAUTH_LIBRARY

# `pip wheel ./python`: the wheel alone, in another fresh venv, from another directory, with no
# LD_LIBRARY_PATH, must load its bundled library and verify a token
if [ "${MCPAUTH_SKIP_WHEEL_SMOKE:-0}" != 1 ]; then
  WTMP=$(mktemp -d)
  "$VENV/bin/python" -m pip wheel -q --no-deps . -w "$WTMP/dist"
  "$PY" -m venv "$WTMP/venv"
  "$WTMP/venv/bin/python" -m pip install -q "$WTMP"/dist/libmcpauth-*.whl
  (cd / && env -u LD_LIBRARY_PATH "$WTMP/venv/bin/python" - <<'PYEOF'
import libmcpauth
from libmcpauth.testing import mint
secret = "wheel-smoke-secret-0123456789abcdef"
p = libmcpauth.jwks_verifier(secret=secret, issuer="https://issuer.example.com", audience="api")
tok = mint({"iss": "https://issuer.example.com", "aud": "api", "sub": "w", "exp": 4102444800}, key=secret, alg="HS256")
assert p.verify(tok).user.user_id == "w"
assert "/_lib/libmcpauth.so.1" in libmcpauth.library_path()
print("wheel smoke: ok", libmcpauth.library_path())
PYEOF
  )
  rm -rf "$WTMP"
fi
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
