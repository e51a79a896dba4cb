#!/usr/bin/env bash
# Shows that the emulation's racecheck can fail: in a copy of the tree, it
# takes out each __syncthreads() of the CUDA backend in turn, rebuilds the
# ThreadSanitizer build of the emulation's tests (with GCC, as CI builds
# it) and runs CI's racecheck (tests/racecheck.sh) until the first
# failure, expecting a ThreadSanitizer data race report. Prints one line per barrier; exits 1 if any barrier's
# removal went unreported. Not part of CI (about a minute per barrier);
# run it after a change to the emulation's scheduler, to the racecheck's
# tests or to the kernels' barriers.
#
# usage: tests/racecheck_mutations.sh [WORK_DIR]   (default: a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
mkdir -p "$work/src"
git ls-files -z --cached --others --exclude-standard | tar -c --null -T - | tar -x -C "$work/src"
cd "$work/src"
cmake -S . -B build -G Ninja -DBACKPROP_CUDA=OFF -DBACKPROP_BUILD_BENCHMARKS=OFF \
  -DBACKPROP_BUILD_CLI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build --target backprop_cuda_on_host_tests >/dev/null

unreported=0
while IFS=: read -r file line _; do
  cp "$file" "$file.orig"
  sed -i "${line}s/__syncthreads();/(void)0;/" "$file"
  cmake --build build --target backprop_cuda_on_host_tests >build.log 2>&1 ||
    { echo "$file:$line: the build failed without it"; tail -20 build.log; exit 1; }
  # The planted races fail as they should whatever is taken out.
  tests/racecheck.sh build -E '^CudaOnHostDeathTest' --stop-on-failure >tests.log 2>&1 || true
  if grep -q 'ThreadSanitizer: data race' tests.log; then
    echo "$file:$line: reported at $(grep -m1 -oE 'SUMMARY: ThreadSanitizer: data race [^ ]+' tests.log | sed 's|.*/cuda/|cuda/|')"
  else
    echo "$file:$line: NOT REPORTED ($(grep -E 'tests passed|tests failed' tests.log | tail -1))"
    unreported=$((unreported + 1))
  fi
  mv "$file.orig" "$file"
done < <(grep -n '__syncthreads();' cuda/*.cu)
[ "$unreported" -eq 0 ] || { echo "$unreported barriers could go without a report"; exit 1; }
echo "every barrier's removal was reported"
