#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target built in BUILD_DIR (the `fuzz` preset) for a bounded time each.
# Usage: run.sh BUILD_DIR [SECONDS_PER_TARGET]   (default 30; or DARTLAB_FUZZ_SECONDS)
#
# Each target NAME_fuzz starts from its committed seeds, tests/fuzz/corpus/NAME_fuzz/ (read only),
# and grows a working corpus in BUILD_DIR/fuzz-runs/NAME_fuzz/corpus/ (kept between runs). A crash,
# leak, sanitizer report or timeout leaves its input in BUILD_DIR/fuzz-runs/NAME_fuzz/artifacts/
# and makes this script exit non-zero once every target has run. Replay one with
#   BUILD_DIR/tests/fuzz/NAME_fuzz ARTIFACT
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS_PER_TARGET]}
seconds=${2:-${DARTLAB_FUZZ_SECONDS:-30}}
src=$(cd "$(dirname "$0")" && pwd)

shopt -s nullglob
targets=("$build"/tests/fuzz/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets in $build/tests/fuzz (build them: cmake --build --preset fuzz --target dartlab_fuzzers)" >&2
  exit 1
fi

# libFuzzer stops on the first sanitizer report; leaks count as crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for exe in "${targets[@]}"; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  run="$build/fuzz-runs/$name"
  mkdir -p "$run/corpus" "$run/artifacts"
  seeds=()
  if [ -d "$src/corpus/$name" ]; then
    seeds=("$src/corpus/$name")
  else
    echo "fuzz: $name has no seeds in tests/fuzz/corpus/$name/: starting from nothing" >&2
  fi
  # -timeout: one input taking this long is a hang (seconds); -rss_limit_mb: libFuzzer's default,
  # said out loud; -max_len: inputs up to 64 KiB reach several of the readers' 4 KiB blocks.
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$run/artifacts/" -print_final_stats=1 \
    "$run/corpus" "${seeds[@]}" >"$run/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$run/log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: FAIL $name (exit $rc): see $run/log; inputs in $run/artifacts/"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$run/log" | head -5
    failed+=("$name")
  else
    echo "fuzz: ok   $name: ${execs:-?} inputs in ${seconds}s (${rate:-?}/s), ${cov:-cov: ?} edges"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
