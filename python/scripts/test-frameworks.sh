#!/usr/bin/env bash
# The integrations on every framework line the package declares, one fresh venv per line
# (mcp 2.x with FastMCP 4.x is python/scripts/test.sh's own venv):
#   mcp 1.x (newest) + FastMCP 2.x (newest): middleware, TokenVerifier, FastMCP provider
#   mcp 1.x (newest) + FastMCP 3.x (newest): the same
# The package is built once (pip wheel ./python) and installed into each venv; pip's cache is
# shared between the venvs and runs.
# Usage: bash python/scripts/test-frameworks.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VENVS=${MCPAUTH_FW_VENVS:-$PWD/.venv-frameworks}
LINES=(
  "mcp1-fastmcp2|mcp==1.30.0 fastmcp==2.14.7"
  "mcp1-fastmcp3|mcp==1.30.0 fastmcp==3.4.11"
)
TESTS=(tests/test_frameworks.py tests/test_integrations.py tests/test_e2e_servers.py tests/test_host_verify.py
       tests/test_asgi.py)
# the common test pins, without the framework lines of requirements-test.txt
COMMON=$(grep -vE '^(#|mcp==|fastmcp==|$)' requirements-test.txt | tr '\n' ' ')

"$PY" -m pip wheel -q --no-deps . -w "$WORK/dist" >"$WORK/wheel.log" 2>&1 || { tail -30 "$WORK/wheel.log"; exit 1; }
WHEEL=$(ls "$WORK"/dist/libmcpauth-*.whl)
unset MCPAUTH_LIBRARY
rc=0
for line in "${LINES[@]}"; do
  name=${line%%|*}; pins=${line#*|}
  venv="$VENVS/$name"
  if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$COMMON $pins" ]; then
    "$PY" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install -q $COMMON $pins
    echo "$COMMON $pins" >"$venv/.pins"
  fi
  "$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
  vers=$("$venv/bin/python" -c 'import importlib.metadata as m; print("mcp", m.version("mcp"), "fastmcp", m.version("fastmcp"))')
  echo "== $name: $vers"
  if ! "$venv/bin/python" -m pytest -q -p no:cacheprovider "${TESTS[@]}" "$@"; then
    echo "FAILED: $name"; rc=1
  fi
done
exit $rc
