#!/usr/bin/env bash
# layering.sh - the core's folders depend only downwards: nothing under util/, jose/, verify/,
# config/ or providers/ includes a header of the OAuth proxy (proxy/) or of the HTTP surface
# (http/). The engine (engine/) and the router (http/router.c) are where those parts meet.
# Usage: bash tests/c/layering.sh [path/to/libmcpauth/src]
set -u
SRC=${1:-$(cd "$(dirname "$0")/../../libmcpauth/src" && pwd)}
bad=0
for dir in util jose verify config providers; do
    for f in "$SRC/$dir"/*.[ch]; do
        if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(proxy|http)/' "$f"; then
            echo "layering: ${f#$SRC/} includes a proxy or HTTP-surface header" >&2
            bad=1
        fi
    done
done
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
