#!/usr/bin/env bash
# Runs backprop_bench and the peers in one go, then prints the ratio table and
# draws the charts.
#
# usage: bench/run.sh OUTDIR [BUILD_DIR]
#   BACKPROP_PEERS="numpy torch" picks the peers (default: numpy, plus torch if importable);
#   BACKPROP_TORCH_VARIANTS="torch-cpu torch-cuda" limits the PyTorch ones
#   (torch.compile recompiles for every configuration and takes minutes);
#   BACKPROP_TORCH_BUDGET, seconds after which the PyTorch peer skips its
#   remaining rows, saying so (a GPU machine's time is short);
#   BACKPROP_BENCH_FILTER, a regex, limits our rows (e.g. 'cuda|Article' on a
#   GPU machine, where the CPU rows were measured elsewhere);
#   BACKPROP_REFERENCE names the column the ratios divide by (numpy-f32);
#   BACKPROP_MIN_TIME, seconds per row for ours and the peers (0.5).
set -euo pipefail
out=${1:?usage: bench/run.sh OUTDIR [BUILD_DIR]}
build=${2:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Install the peers' packages only when missing (a GPU machine may have no registry).
python3 -c "import numpy, matplotlib" 2>/dev/null || python3 -m pip install -q -r "$here/peers/requirements.txt"

# A failure (of our benchmark or of a peer) does not stop the others, since
# a GPU machine's time is short; the exit status reports it at the end.
failed=0
"$build/bench/backprop_bench" --benchmark_out="$out/backprop.json" --benchmark_out_format=json \
  --benchmark_min_time="${BACKPROP_MIN_TIME:-0.5}" --benchmark_filter="${BACKPROP_BENCH_FILTER:-.}" 2>&1 | tee "$out/backprop.log" ||
  { echo "backprop_bench failed: its FAILED rows are in $out/backprop.log" >&2; failed=1; }
files=("$out/backprop.json")

peers=${BACKPROP_PEERS:-numpy torch}
for peer in $peers; do
  if [ "$peer" = torch ] && ! python3 -c "import torch" 2>/dev/null; then
    echo "torch is not installed: skipping the PyTorch peer (pip install torch)" >&2
    continue
  fi
  extra=(--min-seconds "${BACKPROP_MIN_TIME:-0.5}")
  [ "$peer" = torch ] && [ -n "${BACKPROP_TORCH_VARIANTS:-}" ] && extra+=(--variants $BACKPROP_TORCH_VARIANTS)
  [ "$peer" = torch ] && [ -n "${BACKPROP_TORCH_BUDGET:-}" ] && extra+=(--budget-seconds "$BACKPROP_TORCH_BUDGET")
  rm -f "$out/$peer.json"
  (cd "$here/peers" && python3 "${peer}_peer.py" "$out/$peer.json" "${extra[@]}") 2>&1 | tee "$out/$peer.log" ||
    { peer_status=$?; echo "the $peer peer failed (exit $peer_status): see $out/$peer.log" >&2; failed=1; }
  [ -f "$out/$peer.json" ] && files+=("$out/$peer.json")
done

"$build/backprop" train --backend cpu --loss-csv "$out/loss-article.csv" >/dev/null
python3 "$here/compare.py" --reference "${BACKPROP_REFERENCE:-numpy-f32}" "${files[@]}" | tee "$out/table.txt"
python3 "$here/plot.py" "$out" "${files[@]}" --loss-csv "$out/loss-article.csv"
exit "$failed"
