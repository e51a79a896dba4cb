#!/usr/bin/env bash
# One configuration, ours against the PyTorch CPU peer, in alternating runs:
# on a shared machine the peers' speed drifts by up to 2x between runs, so
# a single pair can mislead; ROUNDS pairs give the spread of the ratio.
#
# usage: bench/head_to_head.sh [BUILD_DIR] [HIDDEN] [BATCH_LOG2] [ROUNDS]
#   defaults: build 4 20 5 (the issue's headline: hidden 4, 2^20 samples)
set -euo pipefail
build=${1:-build}
hidden=${2:-4}
log2=${3:-20}
rounds=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for round in $(seq "$rounds"); do
  "$build/bench/backprop_bench" --benchmark_filter="^Step/cpu/h$hidden/$((1 << log2))/" \
    --benchmark_min_time=1 --benchmark_out="$work/ours-$round.json" --benchmark_out_format=json >/dev/null 2>&1
  (cd "$here/peers" && python3 torch_peer.py "$work/torch-$round.json" --variants torch-cpu \
    --hidden "$hidden" --batch-log2 "$log2" --min-seconds 1 2>/dev/null)
done

python3 - "$work" "$rounds" <<'PY'
import json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def rate(path):
    bench = [b for b in json.load(open(path))["benchmarks"] if "samples_per_second" in b]
    return bench[0]["samples_per_second"]
ratios = []
print("round  backprop cpu  torch-cpu  ratio")
for r in range(1, rounds + 1):
    ours, theirs = rate("%s/ours-%d.json" % (work, r)), rate("%s/torch-%d.json" % (work, r))
    ratios.append(ours / theirs)
    print("%5d  %12.3g  %9.3g  %5.1fx" % (r, ours, theirs, ours / theirs))
print("ratio: min %.1fx, median %.1fx, max %.1fx" % (min(ratios), sorted(ratios)[len(ratios) // 2], max(ratios)))
PY
