#!/usr/bin/env bash
# Fuzzes the CSV readers (data sets and parameters) with libFuzzer (clang,
# with AddressSanitizer and UndefinedBehaviorSanitizer) for SECONDS (default
# 60), starting from three small files and what earlier runs kept in
# build-fuzz/corpus. Exit status 0:
# no finding; otherwise libFuzzer's, with the failing input saved as
# build-fuzz/crash-* (or leak-*, timeout-*).
#
# usage: scripts/fuzz-csv.sh [SECONDS]
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
out=build-fuzz
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I include -I core -I tests tests/fuzz/csv_reader.cpp core/csv_text.cpp core/dataset.cpp \
  core/parameters_csv.cpp core/network.cpp core/numpy_random.cpp core/host_memory.cpp -o "$out/fuzz_csv_reader"
printf 'x0,x1,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n' >"$out/corpus/xor.csv"
printf '0.5,-2e3,1\n1e-3,7,0.25\n' >"$out/corpus/no-header.csv"
printf 'parameter,row,column,value\nW1,0,0,1\nW1,1,0,-2e-3\nb1,0,0,0.5\nW2,0,0,3\nb2,0,0,4\n' >"$out/corpus/params.csv"
cd "$out"
./fuzz_csv_reader corpus -max_len=512 -max_total_time="$seconds" -timeout=5 -print_final_stats=1 2>fuzz.log ||
  { status=$?; tail -40 fuzz.log; exit $status; }
grep -E '^(Done|stat::number_of_executed_units)' fuzz.log
