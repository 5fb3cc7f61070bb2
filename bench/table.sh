#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The replay-speed table: every rate that bounds an offline run, side by side with the ratios that
# say where the time goes (replay / decode-only, engine / core, platform / bare quantum keeper).
# With a second build (BASELINE), each row is measured for both builds alternately in this run, so
# before/after figures come from the same machine at the same time. Numbers, never pass/fail.
# Usage: bench/table.sh BUILD_DIR [BASELINE_BUILD_DIR]
#   DARTLAB_BENCH_EVENTS  trace length (default 10 M)     DARTLAB_BENCH_RUNS  runs per row (default 1; median)
#   DARTLAB_BENCH_SWEEP=0 skips the 20-point sweep rows (the longest part)
#   DARTLAB_BENCH_SHORT=3  times the two short rows (decode-only, 0.1 s; replay, 0.4 s) are run in
#                          each run, every one a figure of the median: one such run of the decode
#                          read anywhere from 61 to 95 M events/s back to back on the development VM
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [BASELINE_BUILD_DIR]" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
builds=("$(realpath "$1")")
[ $# -eq 2 ] && builds+=("$(realpath "$2")")
events=${DARTLAB_BENCH_EVENTS:-10000000}
runs=${DARTLAB_BENCH_RUNS:-1}
short=${DARTLAB_BENCH_SHORT:-3}
work=${DARTLAB_BENCH_DIR:-$(mktemp -d)}
[ -n "${DARTLAB_BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
for b in "${builds[@]}"; do
  for exe in sim/dartlab bench/dartlab_bench bench/dartlab_parse_bench bench/dartlab_timed_bench; do
    [ -x "$b/$exe" ] || { echo "table: $b/$exe is missing (build it first: make build)" >&2; exit 1; }
  done
done
newest=${builds[0]}/sim/dartlab
[ -f "$work/game-10M.dlt" ] || "$newest" gen game -n "$events" -s 1 -o "$work/game-10M.dlt"
cp "$here/sweep_bench.toml" "$work/sweep_bench.toml"

# Each measure prints one number per build (its median over $runs runs), the builds alternating.
results=$work/results
: >"$results"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }  # ROW BUILD_INDEX VALUE

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
core_rows='^(BM_CoreWindow256K|BM_ReplayEngine|BM_CoreDirect|BM_CoreDirectBestFit|BM_CoreDirectBuddy|BM_CoreDirectLinux)/'
core() {  # BUILD_INDEX: one process runs every in-memory row
  DARTLAB_BENCH_EVENTS=$events "${builds[$1]}/bench/dartlab_bench" --benchmark_filter="$core_rows" \
    --benchmark_format=json 2>/dev/null | python3 -c '
import json, sys
for b in json.load(sys.stdin)["benchmarks"]:
    print(b["name"].split("/")[0] + "\t" + sys.argv[1] + "\t" + str(b["items_per_second"] / 1e6))' "$1" >>"$results"
}
decode() { record decode "$1" "$("${builds[$1]}/bench/dartlab_parse_bench" "$work/game-10M.dlt" | json_field events_per_second | awk '{ print $1 / 1e6 }')"; }
replay() {
  local s e
  s=$(date +%s.%N)
  "${builds[$1]}/sim/dartlab" replay "$work/game-10M.dlt" -p window:256K -q --json "$work/replay-$1.json"
  e=$(date +%s.%N)
  record replay "$1" "$(awk -v n="$events" -v s="$s" -v e="$e" 'BEGIN { print n / (e - s) / 1e6 }')"
}
sweep() {  # BUILD_INDEX LABEL ARGS...: wall seconds of the 20-point sweep
  local i=$1 label=$2 s e
  shift 2
  s=$(date +%s.%N)
  "${builds[$i]}/sim/dartlab" sweep "$work/sweep_bench.toml" -q --json "$work/sweep-$i.json" "$@"
  e=$(date +%s.%N)
  record "$label" "$i" "$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')"
}
timed() {
  local out
  out=$("${builds[$1]}/bench/dartlab_timed_bench")
  record timed_tlp "$1" "$(sed -nE 's/^per-TLP DMA through the platform:.* = ([0-9.]+) M\/s, cpu.*/\1/p' <<<"$out")"
  record timed_bare "$1" "$(sed -nE 's/^bare tlm_quantumkeeper loop:.* = ([0-9.]+) M\/s, cpu.*/\1/p' <<<"$out")"
  record timed_differ "$1" "$(sed -nE 's/^  largest difference ([0-9.]+)%/\1/p' <<<"$out")"
}

count=${#builds[@]}
for ((r = 0; r < runs; ++r)); do
  for ((i = 0; i < count; ++i)); do
    echo "table: run $((r + 1))/$runs, build $((i + 1))/$count" >&2
    for ((k = 0; k < short; ++k)); do decode "$i"; replay "$i"; done
    core "$i"; timed "$i"
    if [ "${DARTLAB_BENCH_SWEEP:-1}" != 0 ]; then
      sweep "$i" sweep_jobs1_group2 --jobs 1 --group 2
      sweep "$i" sweep_jobs1_group5 --jobs 1 --group 5
      sweep "$i" sweep_jobs1_group10 --jobs 1 --group 10
      sweep "$i" sweep_jobs1_group20 --jobs 1 --group 20
      sweep "$i" sweep_jobs2 --jobs 2
    fi
  done
done
[ "${DARTLAB_BENCH_SWEEP:-1}" = 0 ] || [ $count -eq 1 ] ||
  cmp -s <(sed '/"timing"/,$d' "$work/sweep-0.json") <(sed '/"timing"/,$d' "$work/sweep-1.json") ||
  echo "table: the two builds' sweep results DIFFER" >&2

python3 "$here/table_print.py" "$results" "$count" "$events" "$runs" "$short"
