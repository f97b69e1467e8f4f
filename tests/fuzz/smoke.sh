#!/usr/bin/env bash
# Runs every libFuzzer target for a short time on its seed corpus. A crash, leak or sanitizer
# report fails the run.
set -euo pipefail
dir=$(cd "${1:?usage: smoke.sh BUILD_DIR SECONDS}" && pwd)
secs=${2:-15}
here=$(cd "$(dirname "$0")" && pwd)
n=0
for f in "$dir"/tests/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$corpus/"
  echo "fuzz: $name for ${secs}s"
  (cd "$corpus" && "$f" -max_total_time="$secs" -max_len=20000 -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tail -n 5)
  rm -rf "$corpus"
  n=$((n + 1))
done
[ $n -gt 0 ] || { echo "fuzz: no targets built"; exit 1; }
echo "fuzz: $n targets ran clean"
