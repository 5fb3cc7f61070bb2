#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks (numbers, never pass/fail): core rate, replay vs parse-only, peak RSS vs trace length.
# Usage: bench/run.sh BUILD_DIR   (make bench; DARTLAB_BENCH_BASELINE=OTHER_BUILD_DIR adds a
#        before/after column to the closing replay-speed table, both builds measured in this run)
set -euo pipefail
build=${1:-build/release}
dartlab=$build/sim/dartlab
work=${DARTLAB_BENCH_DIR:-$(mktemp -d)}
events=${DARTLAB_BENCH_EVENTS:-10000000}
echo "== core rate: mapper + functional DART, $events in-memory game events"
DARTLAB_BENCH_EVENTS=$events "$build/bench/dartlab_bench" --benchmark_counters_tabular=true

echo
echo "== end to end: text trace, replay vs parse-only"
small=$((events / 10))
for n in "$small" "$events"; do
  [ -f "$work/game-$n.trace" ] || "$dartlab" gen game -n "$n" -s 1 -o "$work/game-$n.trace"
done
trace=$work/game-$events.trace
echo "trace: $trace ($(du -h "$trace" | cut -f1), $events events)"
parse=$("$build/bench/dartlab_parse_bench" "$trace")
start=$(date +%s.%N)
"$dartlab" replay "$trace" -p window:256K --json "$work/replay.json" -q
end=$(date +%s.%N)
parse_rate=$(sed -E 's/.*"events_per_second": ([0-9.]+).*/\1/' <<<"$parse")
replay_rate=$(awk -v n="$events" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')
awk -v p="$parse_rate" -v r="$replay_rate" 'BEGIN {
  printf "parse-only: %8.2f M events/s\nreplay:     %8.2f M events/s   (replay / parse-only = %.2f)\n", p / 1e6, r / 1e6, r / p }'

echo
echo "== trace formats on the same $events-event trace: read-only, and replay under window:256K"
"$dartlab" convert -q "$trace" "$work/game.dlt"
"$dartlab" convert -q --zstd "$trace" "$work/game-zstd.dlt"
rate() { sed -E 's/.*"events_per_second": ([0-9.]+).*/\1/'; }
replay_rate() {
  local s e
  s=$(date +%s.%N)
  "$dartlab" replay "$1" -p window:256K -q --json "$work/fmt.json"
  e=$(date +%s.%N)
  awk -v n="$events" -v s="$s" -v e="$e" 'BEGIN { printf "%.0f", n / (e - s) }'
}
text_read=$(rate <<<"$parse")
text_replay=$(replay_rate "$trace")
printf "%-12s %10s %14s %14s %12s %12s\n" format size "read M ev/s" "replay M ev/s" "read/text" "replay/text"
for f in "text:$trace" "binary:$work/game.dlt" "binary+zstd:$work/game-zstd.dlt"; do
  name=${f%%:*}; file=${f#*:}
  read_rate=$("$build/bench/dartlab_parse_bench" "$file" | rate)
  rr=$([ "$name" = text ] && echo "$text_replay" || replay_rate "$file")
  awk -v n="$name" -v sz="$(du -h "$file" | cut -f1)" -v r="$read_rate" -v p="$rr" -v tr="$text_read" -v tp="$text_replay" \
    'BEGIN { printf "%-12s %10s %14.2f %14.2f %11.2fx %11.2fx\n", n, sz, r / 1e6, p / 1e6, r / tr, p / tp }'
done

echo
echo "== ftrace import: the same trace as Linux dma:* trace-file lines"
awk -f "$(dirname "$0")/trace_to_ftrace.awk" "$trace" >"$work/game.ftrace"
lines=$(wc -l <"$work/game.ftrace")
import=$("$build/bench/dartlab_parse_bench" "$work/game.ftrace")
awk -v l="$lines" -v s="$(sed -E 's/.*"seconds": ([0-9.]+).*/\1/' <<<"$import")" -v sz="$(du -h "$work/game.ftrace" | cut -f1)" \
  'BEGIN { printf "ftrace import: %d lines (%s) in %.2f s: %.2f M lines/s\n", l, sz, s, l / s / 1e6 }'

echo
echo "== QEMU log import: the same trace as the apple-dma-pci device's trace events"
awk -f "$(dirname "$0")/trace_to_qemu_log.awk" "$trace" >"$work/game.qemu.log"
lines=$(wc -l <"$work/game.qemu.log")
import=$("$build/bench/dartlab_parse_bench" "$work/game.qemu.log")
awk -v l="$lines" -v s="$(sed -E 's/.*"seconds": ([0-9.]+).*/\1/' <<<"$import")" -v sz="$(du -h "$work/game.qemu.log" | cut -f1)" \
  'BEGIN { printf "QEMU log import: %d lines (%s) in %.2f s: %.2f M lines/s\n", l, sz, s, l / s / 1e6 }'

echo
echo "== peak RSS of dartlab replay against trace length"
for n in "$small" "$events"; do
  "$dartlab" replay "$work/game-$n.trace" -p window:256K --json "$work/rss-$n.json" -q
  rss=$(grep -E '"peak_rss_bytes"' "$work/rss-$n.json" | grep -oE '[0-9]+')
  awk -v n="$n" -v r="$rss" 'BEGIN { printf "%10d events: peak RSS %.1f MiB\n", n, r / 1048576 }'
done

echo
echo "== the replay-speed table (bench/table.sh): what bounds an offline run, and the ratios"
"$(dirname "$0")/table.sh" "$build" ${DARTLAB_BENCH_BASELINE:+"$DARTLAB_BENCH_BASELINE"}
[ -n "${DARTLAB_BENCH_DIR:-}" ] || rm -rf "$work"
