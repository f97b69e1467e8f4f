#!/usr/bin/env bash
# Installs a built tree into a temporary prefix and builds a consumer against it through
# pkg-config: header, libraries, SONAME and the relocatable libmcpauth.pc.
set -euo pipefail
build=${1:?usage: install_check.sh BUILD_DIR}
prefix=$(mktemp -d); trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/mcpauth.h bin/mcpauth; do [ -e "$prefix/$f" ] || { echo "missing $f"; exit 1; }; done
pc=$(find "$prefix" -name libmcpauth.pc | head -1)
lib=$(dirname "$(dirname "$pc")")
[ -e "$lib/libmcpauth.so.1" ] && [ -e "$lib/libmcpauth.a" ] || { echo "missing libraries in $lib"; exit 1; }
readelf -d "$lib/libmcpauth.so.1" | grep -q 'SONAME.*libmcpauth.so.1' || { echo "bad SONAME"; exit 1; }
cat > "$prefix/consumer.c" <<'C'
#include <mcpauth.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    if (mcpauth_version_num() != MCPAUTH_VERSION_NUM) return 1;
    printf("consumer: libmcpauth %s: %s\n", mcpauth_version(), mcpauth_strerror(MCPAUTH_E_EXPIRED));
    return strcmp(mcpauth_code_name(MCPAUTH_E_EXPIRED), "MCPAUTH_E_EXPIRED") != 0;
}
C
export PKG_CONFIG_PATH="$(dirname "$pc")"
cc -std=c11 -Wall -Werror "$prefix/consumer.c" -o "$prefix/consumer" $(pkg-config --cflags --libs libmcpauth)
LD_LIBRARY_PATH="$lib" "$prefix/consumer"
echo "install-check: ok ($prefix)"
