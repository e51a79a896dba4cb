#!/usr/bin/env bash
# Unpacks the Debian packages that the build needs (GoogleTest, Google
# Benchmark, CLI11) into .deps/root, for a GPU machine that has CUDA, CMake and
# ninja but no package registry: carry .deps with the work tree, and
# scripts/gpu-check.sh builds against it.
#
# usage (on a machine with apt): scripts/carry-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .deps
mkdir -p .deps/debs .deps/root
(cd .deps/debs && apt-get download googletest libgtest-dev libbenchmark-dev libbenchmark1debian libcli11-dev)
for deb in .deps/debs/*.deb; do dpkg -x "$deb" .deps/root; done
du -sh .deps/root
