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
"$VENV/bin/python" -c 'import mcpauth, sys; print("mcpauth", mcpauth.__version__, "core", mcpauth.core_version(), "from", mcpauth.library_path())'

# the local OpenID provider for the end-to-end tests (tests/idp, npm oidc-provider)
IDP_DIR=../tests/idp
if [ -f "$IDP_DIR/package.json" ] && [ ! -d "$IDP_DIR/node_modules" ] && command -v npm >/dev/null; then
  (cd "$IDP_DIR" && { [ -f package-lock.json ] && npm ci --silent --no-audit --no-fund || npm install --silent --no-audit --no-fund; }) ||
    echo "test.sh: npm install in tests/idp failed; the IdP end-to-end tests will skip"
fi

unset MCPAUTH_LIBRARY
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
