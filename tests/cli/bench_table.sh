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
one=$("$src/bench/table.sh" "$build" 2>/dev/null)
two=$("$src/bench/table.sh" "$build" "$build" 2>/dev/null)
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
