#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: build with CUDA for that GPU, run every
# test but the peers' (failing if any CUDA test skipped), train the article on --backend
# cuda, compare cuda with cpu from the command line, evaluate a saved network
# on both, run a short benchmark (with the GPU's measured read bandwidth, the
# narrow step's ceiling), run compute-sanitizer memcheck and racecheck over
# the CUDA tests, and write every log plus summary.md into DIR, and all of
# them again in DIR/logs.tar.gz.
#
# A GPU machine without a package registry builds against .deps/root when it
# is there (made by scripts/carry-deps.sh and carried with the work tree).
#
# BACKPROP_GPU_CHECK_BUILD names the build folder (build-gpu), and
# BACKPROP_GPU_CHECK_TESTS a ctest -R regex for the tests it runs (all of
# them): CI's walk without a GPU (tests/gpu_check_without_gpu.sh) uses the
# tree it has already built and tested, and runs only the CUDA tests.
#
# Exit status: 0 all ran and passed; 1 something failed; 3 everything else
# passed but compute-sanitizer could not run on this machine.
#
# usage: scripts/gpu-check.sh DIR
set -uo pipefail
out=${1:?usage: scripts/gpu-check.sh DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
build=${BACKPROP_GPU_CHECK_BUILD:-build-gpu}
test_regex=${BACKPROP_GPU_CHECK_TESTS:-.}
status=0
note() { echo "$*" | tee -a "$out/summary.md"; }
check_start=$(date +%s)
: >"$out/summary.md"

gpu=$(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>&1 | head -1)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
note "# GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
note ""
note "- GPU, driver, compute capability: ${gpu}"
note "- nvcc: $(nvcc --version | tail -1)"
# -dirty: the work tree differs from that commit (a copied tree can come
# with an older .git).
note "- commit: $(git describe --always --dirty 2>/dev/null || echo unknown)"
[ -n "$arch" ] || { note "- no GPU answered nvidia-smi: stopping"; exit 1; }
note "- cmake: $(cmake --version | head -1); host compiler: $(c++ --version | head -1)"

prefix=()
[ -d .deps/root/usr ] && prefix=(-DCMAKE_PREFIX_PATH="$PWD/.deps/root/usr")
# compute-sanitizer: on the PATH, or where toolkits keep it beside nvcc.
nvcc_dir=$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")
sanitizer=
for candidate in "$(command -v compute-sanitizer)" "$nvcc_dir/compute-sanitizer" \
    "$nvcc_dir/../compute-sanitizer/compute-sanitizer" /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then sanitizer=$candidate; break; fi
done

start=$(date +%s)
if ! { cmake -S . -B "$build" -G Ninja -DCMAKE_CUDA_ARCHITECTURES="$arch" "${prefix[@]}" &&
       cmake --build "$build" -j"$(nproc)"; } >"$out/build.log" 2>&1; then
  note "- build: FAILED (build.log); its last lines:"
  tail -25 "$out/build.log" >>"$out/summary.md"
  exit 1
fi
note "- build: ok in $(( $(date +%s) - start )) s for sm_${arch}"

# The narrow step's hot loop as compiled for this GPU: static instruction
# counts to set beside the measured speed (bench/sass_loops.py).
cuobjdump=$(command -v cuobjdump || echo "$nvcc_dir/cuobjdump")
if [ -x "$cuobjdump" ]; then
  "$cuobjdump" -sass "$build/CMakeFiles/backprop_cuda_objects.dir/cuda/narrow_step.cu.o" |
    python3 bench/sass_loops.py --mix step_partials >"$out/sass-narrow.txt" 2>&1
  # Exp2)0: the hardware's exp2, which every data set past one block uses.
  note "- narrow step, f32 2-4-1, static instructions in its loop of 4 samples: $(awk '/float, 2, 4, \(backprop::math::Exp2\)0>/ {print $1 " (" $2 " MUFU)"}' "$out/sass-narrow.txt") (sass-narrow.txt)"
fi

"$build/backprop" backends >"$out/backends.log" 2>&1
note "- backends: $(tr '\n' ';' <"$out/backends.log")"

start=$(date +%s)
# A hung test must not eat the device time: each gets four minutes. Left
# out: the peers' checks (Bench.Peer.*), which test PyTorch and NumPy on the
# CPU, as CI does; torch.compile's, compiling from a cold cache, took 187 s
# of the H200 run's 231 s of tests and pushed the check past its time.
ctest --test-dir "$build" --output-on-failure -j8 --timeout 240 -R "$test_regex" -E '^Bench\.Peer\.' >"$out/tests.log" 2>&1 ||
  status=1
note "- tests: $(grep -E 'tests passed|tests failed' "$out/tests.log" | tail -1) in $(( $(date +%s) - start )) s"
# The GPU's tests: suites named Cuda*, not the emulation's (CudaOnHost*: its
# racecheck tests run only in a ThreadSanitizer build), nor CLI tests with
# Cuda in their name that skip because a device is usable.
skipped=$(grep -E '^[[:space:]]*[0-9]+ - ([A-Za-z0-9_]+/)?Cuda[A-Za-z0-9_]*\..*\((Skipped|Not Run)\)' "$out/tests.log" |
  grep -vc 'CudaOnHost')
if [ "$skipped" -ne 0 ]; then
  note "- CUDA tests skipped: ${skipped} (a GPU is present, so this is a failure)"
  status=1
else
  note "- CUDA tests skipped: 0"
fi

start=$(date +%s)
"$build/backprop" train --backend cuda >"$out/train-article-cuda.log" 2>&1
rc=$?
[ $rc -eq 0 ] || status=1
note "- article run on cuda (exit $rc), $(( $(date +%s) - start )) s:"
note '```'
cat "$out/train-article-cuda.log" >>"$out/summary.md"
note '```'

# Parity as a user sees it: the same runs on both backends, beside cpu/f64.
for args in "" "--precisions f64,f32 --samples 65543 --hidden 256 --epochs 50"; do
  "$build/backprop" compare --backends cpu,cuda $args >>"$out/compare.log" 2>&1 || status=1
done
note "- backprop compare (compare.log):"
note '```'
cat "$out/compare.log" >>"$out/summary.md"
note '```'

# A network saved by the CPU run, evaluated on both backends: the loss that
# its next epoch would log, and its predictions.
"$build/backprop" train --backend cpu --log-every 0 --params-csv "$out/article-network.csv" >/dev/null 2>&1 || status=1
for backend in cpu cuda; do
  echo "\$ backprop evaluate --backend $backend --params-csv article-network.csv" >>"$out/evaluate.log"
  "$build/backprop" evaluate --backend $backend --params-csv "$out/article-network.csv" >>"$out/evaluate.log" 2>&1 ||
    status=1
done
note "- backprop evaluate of the article's trained network (evaluate.log):"
note '```'
cat "$out/evaluate.log" >>"$out/summary.md"
note '```'

if [ -x "$build/bench/backprop_bench" ]; then
  # Hidden 1024 on the GPU only: the narrow step against the GEMMs there.
  "$build/bench/backprop_bench" \
    --benchmark_filter='Article|Roofline|Step/(cpu|cuda|cuda-gemm)/h(4|32|256)/(4|16384|1048576|16777216)/|Step/(cuda|cuda-gemm)/h1024/(16384|1048576|16777216)/' \
    --benchmark_min_time=0.2 --benchmark_out="$out/bench.json" --benchmark_out_format=json \
    >"$out/bench.log" 2>&1 || status=1
  note "- benchmark (bench.log, bench.json):"
  note '```'
  grep -E '^(Step|Article|Roofline)' "$out/bench.log" >>"$out/summary.md"
  note '```'
  # The steps as ratios to cpu, and the hidden-4 steps as a fraction of the
  # read bandwidth measured in the same run.
  python3 bench/compare.py --reference cpu "$out/bench.json" >"$out/bench-table.txt" 2>&1 || status=1
  note "- benchmark table (bench-table.txt):"
  note '```'
  cat "$out/bench-table.txt" >>"$out/summary.md"
  note '```'
fi

# compute-sanitizer last: it is the slowest step, and a run cut short by the
# machine's time limit still has the article, parity and benchmark logs.
tests="$build/tests/backprop_tests"
tools="memcheck racecheck"
# Some GPU runtimes refuse compute-sanitizer ("Device not supported"): that
# is the machine, not the code, so it is reported apart from failures.
sanitizer_missing=0
if [ -z "$sanitizer" ]; then
  note "- compute-sanitizer: NOT FOUND (looked on the PATH and beside nvcc in $nvcc_dir)"
  sanitizer_missing=1
  tools=
fi
for tool in $tools; do
  # Left out: the long runs (the article, float64, the wide grid, restarted
  # sessions), whose kernels the shorter tests launch too. racecheck, which
  # watches shared memory, takes the first step on every narrow layout, the
  # one-launch epochs, and the GEMM path's kernels on one chunk and on one
  # sample; its three-chunk run (Edges/.../2: the same kernels, more
  # launches) took 118 of its 141 s on the H200.
  filter='*Cuda*:-*ArticleRun*:*Float64*:*Wide*:*Restarted*'
  [ "$tool" = racecheck ] &&
    filter='*CudaChunkEdges*:CudaParity.FirstStepGradients*:CudaParity.EpochsInOneLaunch*:-Edges/CudaChunkEdges.MatchTheCpu/2'
  start=$(date +%s)
  timeout 150 "$sanitizer" --tool "$tool" --error-exitcode 3 "$tests" --gtest_filter="$filter" \
    >"$out/sanitizer-$tool.log" 2>&1
  rc=$?
  # Refused, or the tests found no usable device under it and skipped.
  if grep -qi 'device not supported' "$out/sanitizer-$tool.log" ||
     ! grep -q '^\[==========\] Running' "$out/sanitizer-$tool.log" ||
     grep -q '^\[  SKIPPED \]' "$out/sanitizer-$tool.log"; then
    sanitizer_missing=1
    note "- compute-sanitizer $tool COULD NOT RUN the tests on the device here (exit $rc): $(grep -m1 -iE 'not supported|error|skipped' "$out/sanitizer-$tool.log")"
    continue
  fi
  [ $rc -eq 0 ] || status=1
  if [ $rc -eq 124 ]; then
    note "- compute-sanitizer $tool TIMED OUT after 150 s, $(grep -c '^\[       OK \]' "$out/sanitizer-$tool.log") tests passed before (not a finding, not a pass)"
    continue
  fi
  note "- compute-sanitizer $tool (exit $rc): $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/sanitizer-$tool.log" | tail -1) ($(grep -E '^\[  (PASSED|FAILED)' "$out/sanitizer-$tool.log" | tr '\n' ' ')) in $(( $(date +%s) - start )) s"
done

note "- the whole check: $(( $(date +%s) - check_start )) s (the budget is 480 s on a 16-core machine)"
note ""
if [ $status -ne 0 ]; then
  note "result: FAIL"
elif [ $sanitizer_missing -ne 0 ]; then
  note "result: PASS, except that compute-sanitizer could not run on this machine (exit code 3)"
  status=3
else
  note "result: PASS"
fi
# Everything in one archive too, for machines that hand back only a few files.
# Packed beside DIR first: tar warns (and fails) on a folder that changes
# while it reads it, as DIR would with the archive growing inside it.
archive=$(mktemp "${out%/}.logs.XXXXXX")
tar -czf "$archive" -C "$out" --exclude=logs.tar.gz . && mv "$archive" "$out/logs.tar.gz"
exit $status
