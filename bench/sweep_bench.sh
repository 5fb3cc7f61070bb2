#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sweep scaling: 20 policy points over a 10 M-event game trace (binary), --jobs 1 against
# --jobs 2, and the group sizes; wall time and peak RSS from /usr/bin/time. Numbers, not checks.
# Usage: bench/sweep_bench.sh [BUILD_DIR]   (DARTLAB_BENCH_EVENTS scales the trace)
set -euo pipefail
build=${1:-build/release}
dartlab=$(realpath "$build/sim/dartlab")
here=$(cd "$(dirname "$0")" && pwd)
work=${DARTLAB_BENCH_DIR:-$(mktemp -d)}
events=${DARTLAB_BENCH_EVENTS:-10000000}
cp "$here/sweep_bench.toml" "$work/sweep_bench.toml"
[ -f "$work/game-10M.dlt" ] || "$dartlab" gen game -n "$events" -s 1 -o "$work/game-10M.dlt"
echo "trace: $work/game-10M.dlt ($(du -h "$work/game-10M.dlt" | cut -f1), $events events); $(nproc) cores"
"$dartlab" sweep "$work/sweep_bench.toml" --list | head -1

# run LABEL ARGS...: one sweep, its wall seconds and peak RSS
run() {
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$dartlab" sweep "$work/sweep_bench.toml" -q --json "$work/$label.json" "$@"
  read -r wall rss_kib <"$work/time.txt"
  printf "%-28s %8.1f s %10.1f MiB\n" "$label" "$wall" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')"
  echo "$wall" >"$work/$label.wall"
}
printf "%-28s %10s %14s\n" run wall "peak RSS"
for group in ${DARTLAB_BENCH_GROUPS:-1 2 5 10 20}; do
  run "jobs1-group$group" --jobs 1 --group "$group"
done
run jobs2 --jobs 2
run jobs2-reader-thread --jobs 2 --reader-thread
awk -v one="$(cat "$work/jobs1-group${DARTLAB_BENCH_BEST_GROUP:-5}.wall")" -v two="$(cat "$work/jobs2.wall")" \
  'BEGIN { printf "speedup, --jobs 2 over --jobs 1 (same group): %.2fx\n", one / two }'
sed '/^  "timing": {/,$d' "$work/jobs2.json" >"$work/a" && sed '/^  "timing": {/,$d' "$work/jobs1-group${DARTLAB_BENCH_BEST_GROUP:-5}.json" >"$work/b"
cmp -s "$work/a" "$work/b" && echo "results identical across jobs and groups" || echo "RESULTS DIFFER across jobs/groups"
