#!/usr/bin/env bash
# The artifacts a user would install, each in a fresh venv, from another directory, without
# LD_LIBRARY_PATH:
#   1. the sdist (python -m build --sdist): it carries the C core (python/_core: CMakeLists.txt,
#      libmcpauth/include, src, sources.txt, ...), and `pip install <sdist>` builds it;
#   2. the wheel (pip wheel ./python), repaired by auditwheel (tools from PyPI): a manylinux
#      tag, jansson/libcurl/OpenSSL/libjwt bundled in libmcpauth.libs/, the library stripped.
# Each installed package verifies a token.
# Usage: bash python/scripts/test-packaging.sh     (MCPAUTH_DIST=dir keeps the artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DIST=${MCPAUTH_DIST:-$WORK/dist}
mkdir -p "$DIST"

"$PY" -m venv "$WORK/tools"
"$WORK/tools/bin/python" -m pip install -q --upgrade pip
"$WORK/tools/bin/python" -m pip install -q -r requirements-packaging.txt
export PATH="$WORK/tools/bin:$PATH"

smoke() { # smoke VENV: the installed package loads its own library and verifies a token
  (cd / && env -u LD_LIBRARY_PATH -u MCPAUTH_LIBRARY "$1/bin/python" - "$2" <<'PYEOF'
import sys, libmcpauth
from libmcpauth.testing import mint
secret = "packaging-smoke-secret-0123456789abcdef"
p = libmcpauth.jwks_verifier(secret=secret, issuer="https://issuer.example.com", audience="api", use_env=False)
tok = mint({"iss": "https://issuer.example.com", "aud": "api", "sub": "w", "exp": 4102444800}, key=secret, alg="HS256")
assert p.verify(tok).user.user_id == "w"
path = libmcpauth.library_path()
assert "/site-packages/libmcpauth/_lib/libmcpauth.so.1" in path, path
maps = open("/proc/self/maps").read()
if sys.argv[1] == "bundled":  # the C dependencies come from the wheel (Python's own _ssl may
    # map the system's OpenSSL besides: auditwheel's copies have their own hashed names)
    for dep in ("libjansson", "libcurl", "libssl", "libcrypto", "libjwt"):
        lines = [l for l in maps.splitlines() if "/site-packages/libmcpauth.libs/" + dep + "-" in l]
        assert lines, (dep, "not loaded from libmcpauth.libs")
print("smoke ok:", path, libmcpauth.core_version())
PYEOF
  )
}

echo "== sdist"
"$WORK/tools/bin/python" -m build -q --sdist -o "$DIST" . >"$WORK/sdist.log" 2>&1 || { tail -30 "$WORK/sdist.log"; exit 1; }
SDIST=$(ls "$DIST"/libmcpauth-*.tar.gz)
[ ! -e _core ] || { echo "FAIL: python/_core left behind"; exit 1; }
tar -tzf "$SDIST" >"$WORK/sdist.list"
base=$(basename "$SDIST" .tar.gz)
for f in CMakeLists.txt _core/CMakeLists.txt _core/libmcpauth/sources.txt _core/libmcpauth/mcpauth.map \
         _core/libmcpauth/include/mcpauth.h backend/libmcpauth_build.py src/libmcpauth/__init__.py; do
  grep -qx "$base/$f" "$WORK/sdist.list" || { echo "FAIL: $f not in $SDIST"; exit 1; }
done
n=0
while read -r src; do
  case "$src" in ''|'#'*) continue;; esac
  grep -qx "$base/_core/libmcpauth/src/$src" "$WORK/sdist.list" || { echo "FAIL: core source $src not in sdist"; exit 1; }
  n=$((n + 1))
done < ../libmcpauth/sources.txt
echo "sdist: $(basename "$SDIST") carries the core ($n sources of sources.txt)"
"$PY" -m venv "$WORK/venv-sdist"
"$WORK/venv-sdist/bin/python" -m pip install -q --upgrade pip
(cd "$WORK" && "$WORK/venv-sdist/bin/python" -m pip install -q "$SDIST") >"$WORK/sdist-install.log" 2>&1 ||
  { tail -30 "$WORK/sdist-install.log"; echo "FAIL: pip install <sdist>"; exit 1; }
smoke "$WORK/venv-sdist" system

echo "== manylinux wheel"
"$WORK/tools/bin/python" -m pip wheel -q --no-deps . -w "$WORK/raw" >"$WORK/wheel.log" 2>&1 || { tail -30 "$WORK/wheel.log"; exit 1; }
auditwheel repair --strip -w "$DIST" "$WORK"/raw/libmcpauth-*.whl >"$WORK/repair.log" 2>&1 || { tail -30 "$WORK/repair.log"; exit 1; }
WHEEL=$(ls "$DIST"/libmcpauth-*manylinux*.whl)
case "$(basename "$WHEEL")" in
  libmcpauth-*-py3-none-manylinux_2_[0-9]*_x86_64.whl) ;;
  *) echo "FAIL: not a manylinux wheel: $WHEEL"; exit 1;;
esac
unzip -p "$WHEEL" 'libmcpauth-*.dist-info/WHEEL' | grep -q '^Tag: py3-none-manylinux_2_[0-9]*_x86_64$' ||
  { echo "FAIL: WHEEL tag"; unzip -p "$WHEEL" 'libmcpauth-*.dist-info/WHEEL'; exit 1; }
auditwheel show "$WHEEL" >"$WORK/show.log" 2>&1
grep -q 'consistent with the following platform tag: "manylinux_2_' <(tr '\n' ' ' <"$WORK/show.log" | sed 's/  */ /g') ||
  { cat "$WORK/show.log"; echo "FAIL: auditwheel show"; exit 1; }
unzip -q -o "$WHEEL" 'libmcpauth/_lib/libmcpauth.so.1' -d "$WORK/x"
if readelf -S "$WORK/x/libmcpauth/_lib/libmcpauth.so.1" | grep -q '\.symtab'; then
  echo "FAIL: libmcpauth.so.1 is not stripped"; exit 1
fi
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB), libmcpauth.so.1 stripped"
"$PY" -m venv "$WORK/venv-wheel"
"$WORK/venv-wheel/bin/python" -m pip install -q "$WHEEL"
readelf -d "$WORK/venv-wheel"/lib/python3*/site-packages/libmcpauth/_lib/libmcpauth.so.1 >"$WORK/dyn.txt"
grep -q 'R.*PATH.*\$ORIGIN/\.\./\.\./libmcpauth\.libs' "$WORK/dyn.txt" || { cat "$WORK/dyn.txt"; echo "FAIL: rpath"; exit 1; }
smoke "$WORK/venv-wheel" bundled
echo "packaging: ok"
