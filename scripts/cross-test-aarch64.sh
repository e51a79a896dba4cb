#!/usr/bin/env bash
# Builds the CPU backend, the CLI and the tests for 64-bit ARM Linux and
# runs the tests under qemu-user, on an x86-64 Debian machine. The CPU
# backend's portable build is what ARM machines run, and it must give the
# x86 builds' bits: this is where a compiler that fuses multiplies and adds
# on its own (aarch64 has FMA everywhere) would show.
#
# Not run: the two death tests in the threadsafe style, which start the
# test binary again by exec, and qemu-user cannot run an ARM binary that
# the guest execs without binfmt_misc, which a container may not register.
#
# Given this machine's own build too, it then checks that both train to the
# same bits (scripts/same-losses.sh).
#
# usage: scripts/cross-test-aarch64.sh [BUILD_DIR [NATIVE_BUILD_DIR]]
#   BUILD_DIR defaults to build-aarch64
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
native=${2:-}
jobs=$(nproc)

scripts/install-deps.sh g++-aarch64-linux-gnu qemu-user

# GoogleTest for the target, from the sources Debian's googletest package ships.
gtest=$(realpath -m "$build")/googletest  # BUILD_DIR may be relative or absolute
if [ ! -f "$gtest/install/lib/libgtest.a" ]; then
  cmake -S /usr/src/googletest -B "$gtest/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" -DCMAKE_INSTALL_PREFIX="$gtest/install" >/dev/null
  cmake --build "$gtest/build" -j"$jobs" --target install >/dev/null
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_PREFIX_PATH="$gtest/install" -DBACKPROP_CUDA=OFF -DBACKPROP_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900 \
  -E 'CudaOnHostDeathTest|ThreadPool.TooManyThreadsForTheSystemIsAnError'

[ -z "$native" ] || scripts/same-losses.sh "$native/backprop" "qemu-aarch64 -L /usr/aarch64-linux-gnu $build/backprop"
