#!/usr/bin/env bash
# Installs what building and testing libmcpauth needs, from Debian packages. Idempotent: does
# nothing when everything is present. Run as root (or with sudo available).
set -euo pipefail

pkgs=(build-essential cmake pkg-config libjansson-dev libcurl4-openssl-dev libssl-dev libjwt-dev
      check libmicrohttpd-dev abigail-tools clang-14 clang-format-14 libclang-rt-14-dev valgrind
      curl ca-certificates python3-venv unzip)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "install-deps: $tool is required (Node 20, Python 3.11)"; exit 1; }
done
echo "install-deps: ok"
