#!/usr/bin/env bash
# Compares the ABI of a freshly built libmcpauth.so.1 with the committed baseline
# (abi/libmcpauth.abi) using abidiff. Fails on any change to what the baseline exports;
# additions pass. To record new functions in the baseline: bash scripts/abi-check.sh --update LIB
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=${1:?usage: abi-check.sh [--update] path/to/libmcpauth.so.1}
hdrs=libmcpauth/include
if [ $update -eq 1 ]; then
  abidw --headers-dir "$hdrs" --no-corpus-path "$lib" > abi/libmcpauth.abi
  echo "abi baseline updated"; exit 0
fi
set +e
abidiff --headers-dir2 "$hdrs" --no-added-syms abi/libmcpauth.abi "$lib"
rc=$?
set -e
# abidiff exit status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change. Added
# symbols are not reported (--no-added-syms), so any change left is a change to something the
# baseline already exported (a parameter type, a removed symbol...): that breaks callers.
if [ $rc -ne 0 ]; then
  echo "abi-check: the ABI of existing symbols changed (abidiff status $rc): this breaks callers"
  exit 1
fi
echo "abi-check: ok (the baseline's symbols unchanged in their version nodes MCPAUTH_1 and MCPAUTH_1.1; additions are allowed)"
