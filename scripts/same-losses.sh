#!/usr/bin/env bash
# Trains a few runs on the cpu backend with two builds of the CLI and checks
# that every epoch's loss, written at full precision, is the same bits:
# f32 and f64, hidden 4 to 300, the narrow and the general kernels. Builds
# from other compilers, flags or processors must agree (cpu/README.md).
#
# usage: scripts/same-losses.sh 'COMMAND_A' 'COMMAND_B'
#   each a command that starts a backprop CLI, e.g. build/backprop or
#   'qemu-aarch64 -L /usr/aarch64-linux-gnu build-aarch64/backprop'
set -euo pipefail
a=${1:?usage: scripts/same-losses.sh COMMAND_A COMMAND_B}
b=${2:?usage: scripts/same-losses.sh COMMAND_A COMMAND_B}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

train() {  # train OUTPUT_CSV COMMAND ARGS...: quiet unless it fails
  local csv=$1 command=$2
  shift 2
  $command train --backend cpu "$@" --log-every 0 --loss-csv "$csv" >/dev/null 2>"$work/log" ||
    { echo "failed: $command train --backend cpu $*" >&2; cat "$work/log" >&2; exit 1; }
}

for args in "--precision f32" "--precision f64" "--samples 3000 --epochs 300" \
    "--hidden 32 --samples 1000 --epochs 300" "--hidden 300 --samples 5000 --epochs 50 --init xavier" \
    "--hidden 300 --samples 5000 --epochs 50 --precision f64"; do
  train "$work/a.csv" "$a" $args
  train "$work/b.csv" "$b" $args
  if ! cmp -s "$work/a.csv" "$work/b.csv"; then
    echo "different losses from '$a' and '$b': train $args" >&2
    diff "$work/a.csv" "$work/b.csv" | head -5 >&2
    exit 1
  fi
  echo "the same losses, bit for bit: train $args"
done
