#!/usr/bin/env bash
# scripts/gpu-check.sh runs only where a GPU is lent, for minutes at a time,
# so a slip in its shell would waste the one run that matters. This walks it
# end to end here, with an nvidia-smi that names an sm_90 GPU the machine
# does not have, and checks what it must then report: the build and the
# tests ran, the skipped CUDA tests count as a failure, the missing
# compute-sanitizer is said, a saved network was evaluated, the CPU
# benchmark ran, the summary ends in FAIL, the archive holds every log, and
# the exit status is 1.
#
# Given a build folder that is already built and tested (CI's build/), it
# walks the script over that tree and runs only the CUDA tests there, so
# the walk costs no second build and no second test run; without one, the
# script builds and tests its own tree, as on a GPU.
#
# usage: tests/gpu_check_without_gpu.sh [BUILD_DIR]   (from anywhere; ~4 minutes without BUILD_DIR)
set -euo pipefail
if [ -n "${1:-}" ]; then
  BACKPROP_GPU_CHECK_BUILD=$(realpath "$1")  # the caller's folder, before the cd below
  export BACKPROP_GPU_CHECK_BUILD BACKPROP_GPU_CHECK_TESTS=Cuda
fi
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
cat >"$work/bin/nvidia-smi" <<'EOF'
#!/bin/sh
case "$*" in
  *name,driver_version,compute_cap*) echo "Pretend GPU, 0.0, 9.0" ;;
  *compute_cap*) echo "9.0" ;;
  *) exit 9 ;;
esac
EOF
chmod +x "$work/bin/nvidia-smi"

status=0
PATH="$work/bin:$PATH" scripts/gpu-check.sh "$work/out" >"$work/console.log" 2>&1 || status=$?
summary="$work/out/summary.md"

failures=0
expect() {  # expect DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
has() { grep -qE -- "$1" "$summary"; }
expect "exit status 1 (got $status)" test "$status" -eq 1
expect "the GPU line names the pretend GPU" has '^- GPU, driver, compute capability: Pretend GPU, 0.0, 9.0$'
expect "the build ran for sm_90" has '^- build: ok in [0-9]+ s for sm_90$'
expect "every test ran and passed" has '^- tests: 100% tests passed, 0 tests failed out of [0-9]+ in'
expect "skipped CUDA tests are a failure" has '^- CUDA tests skipped: [1-9][0-9]* \(a GPU is present, so this is a failure\)$'
# Not found, or found with no device to run on: either way not a pass.
expect "compute-sanitizer is said not to have run" \
  has '^- compute-sanitizer(: NOT FOUND| memcheck COULD NOT RUN)'
expect "the article run on cuda failed with the reason" has '^backprop: error: backend .cuda. is not usable here'
in_evaluate_log() { grep -qE -- "$1" "$work/out/evaluate.log"; }
expect "the saved network was evaluated on the cpu" in_evaluate_log '^Loss: 0\.0057[0-9]*$'
expect "evaluating it on cuda failed with the reason" in_evaluate_log '^backprop: error: backend .cuda. is not usable here'
expect "the CPU benchmark ran" has '^Step/cpu/h4/1048576/manual_time'
expect "the ratio table was printed" has '^samples/s per training step'
expect "the whole check's time is given" has '^- the whole check: [0-9]+ s '
expect "the summary ends in FAIL" test "$(tail -1 "$summary")" = "result: FAIL"
for log in summary.md build.log tests.log backends.log train-article-cuda.log compare.log evaluate.log bench.json bench.log \
    bench-table.txt; do
  expect "the archive holds $log" sh -c "tar -tzf '$work/out/logs.tar.gz' | grep -qx './$log'"
done

if [ "$failures" -ne 0 ]; then
  echo "gpu-check.sh without a GPU: $failures checks failed; its summary and console:" >&2
  cat "$summary" "$work/console.log" >&2
  exit 1
fi
echo "gpu-check.sh without a GPU: every check passed"
