#!/usr/bin/env bash
# The check to run before each commit, in a few minutes: the README's build
# and tests in build/ (incremental), the shell syntax of every script, the
# whitespace of the change, and gpu-check.sh walked with a pretend GPU over
# that build. The sanitizers, the racecheck, the fuzzer and the Clang and
# aarch64 bit-identity checks are .ci/run's (README, "Checks").
#
# usage: scripts/ci-quick.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$SECONDS

for script in .ci/run scripts/*.sh tests/*.sh bench/*.sh; do bash -n "$script"; done
# Trailing spaces and conflict markers, in the staged and unstaged change.
git diff --check HEAD -- . ':(exclude)bench/results'

cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
tests/gpu_check_without_gpu.sh build
echo "ci-quick: every check passed in $((SECONDS - start)) s"
