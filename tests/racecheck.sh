#!/usr/bin/env bash
# The racecheck of the CUDA backend's kernels: the host emulation's tests
# in a ThreadSanitizer build, where every thread of a block that
# synchronises or shares memory is a fiber that only __syncthreads orders,
# and blocks run on four host threads dealt out afresh at each launch
# (tests/cuda_on_host/block_fibers.cpp), so ThreadSanitizer reports any two
# threads or blocks that touch one location, one of them writing, unordered.
#
# The build must use GCC's ThreadSanitizer runtime. Clang 14's keeps 256
# slots for threads and lends a slot to the next thread when they run out,
# which orders that thread after the slot's last one: with a fiber per
# thread of a 1024-thread block it missed 2 of the backend's 12 barriers
# taken out (tests/racecheck_mutations.sh), where GCC's reports all 12.
# GCC's costs a vector clock as long as the threads alive at every barrier,
# so the tests here are the emulation's small ones: between them they run
# every kernel on every layout, the one-launch epochs in f32 and f64, the
# graph replays of both paths, the GEMMs on several chunks, the narrow step
# with several samples a thread, and the planted races. The larger tests
# run in every other build.
#
# usage: tests/racecheck.sh BUILD_DIR [more ctest options]
set -euo pipefail
build=${1:?usage: tests/racecheck.sh BUILD_DIR [more ctest options]}
shift
tests='^RacecheckSizes/|^CudaOnHostDeathTest\.'
tests+='|^CudaOnHost\.(IsUsable|Shuffles|SharedMemory|SmallDataSets|ArticleRunHasTheRecordedBits|Float64Follows'
tests+='|Tf32|PredictionsAcrossChunks|MemoryGrows|OutOfMemory|FirstStepPastTheNarrowThreads)'
tests+='|MatchTheCpu/(N1_hidden4_epochs5(_gemms_only)?|N1000_hidden(1|4)_epochs10|N1000_hidden4_epochs10_gemms_only'
tests+='|N65543_hidden4_epochs3)( |$)'  # ctest's names of parameterized tests go on: ' # GetParam() = ...'
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -R "$tests" "$@"
