#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`'s replay-speed table (bench/table.sh) still measures every row, on a tiny trace:
# alone, and against a baseline build (here the same build twice). Checks that each row has a
# number and each ratio is printed; never what the numbers are.
# Usage: bench_table.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
export DARTLAB_BENCH_EVENTS=20000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
one=$("$src/bench/table.sh" "$build" 2>/dev/null)
two=$(DARTLAB_BENCH_DIR=$work "$src/bench/table.sh" "$build" "$build" 2>/dev/null)
# The short rows are run DARTLAB_BENCH_SHORT times (3) a run, and the header says so.
for row in decode replay; do
  for b in 0 1; do
    n=$(grep -c "^$row	$b	" "$work/results" || true)
    [ "$n" -eq 3 ] || fail "expected 3 $row figures for build $b, got $n"
  done
done
grep -q '^20000 generated game events, median of 1 run(s) per figure (3 for the decode and replay rows, 3 in each run)$' <<<"$two" ||
  fail "the header does not say how many figures the short rows' medians take: $(head -1 <<<"$two")"
for out in "$one" "$two"; do
  rows=$(grep -v '^| measure' <<<"$out" | grep -c '^| [a-z0-9`]' || true)
  [ "$rows" -eq 13 ] || fail "expected 13 measures, got $rows: $out"
  ! grep -q 'n/a' <<<"$out" || fail "a row has no figure: $(grep 'n/a' <<<"$out")"
  grep -qE 'replay engine .*[0-9.]+x core' <<<"$out" || fail "no engine / core ratio: $out"
  grep -qE 'dartlab replay.*[0-9.]+x decode' <<<"$out" || fail "no replay / decode ratio: $out"
  grep -qE 'per-TLP .*[0-9.]+x bare quantum keeper' <<<"$out" || fail "no platform / bare ratio: $out"
done
grep -q '^| measure | before | after | after vs before |' <<<"$two" || fail "no before/after columns: $two"
grep -qE '^\| core under direct, linux .* \| [0-9.]+x \|$' <<<"$two" || fail "no after/before ratio: $two"
echo "ok: the table has all 13 rows, alone and against a baseline"
