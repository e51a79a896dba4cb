#!/usr/bin/env bash
# Installs the Debian packages that building and testing backprop needs,
# only those that are missing. The CUDA toolkit is optional and not installed
# here: without nvcc the build is CPU-only. Packages named as arguments are
# installed too, when missing.
set -euo pipefail

packages=(cmake ninja-build ccache g++ googletest libgtest-dev libbenchmark-dev libcli11-dev clang "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
