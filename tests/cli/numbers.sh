#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every count, size, seed and duration flag refuses a sign and an overflow with a message naming
# the flag and the value (issue 14, item 1): `gen -n -1` was read as 2^64 - 1, `-n -2` streamed
# without end. Spec strings' numbers that land in narrower fields are refused, not wrapped.
# Usage: numbers.sh DARTLAB_BINARY SOURCE_DIR
set -uo pipefail
dartlab=$1
src=$2
source "$src/tests/cli/expect.sh"

printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev\nunmap 1\n' >"$work/ok.trace"
printf 'traces = ["ok.trace"]\npolicies = ["direct"]\n' >"$work/sweep.toml"
"$dartlab" replay "$work/ok.trace" --json "$work/out.json" -q

too_big=18446744073709551616  # 2^64
# FLAG: the command before the value; KIND: count, size or decimal.
flags=(
  "count|gen game -n"
  "count|gen game --events"
  "count|gen game -s"
  "count|gen game --seed"
  "count|gen game --live-target"
  "count|gen churn --churn-long-factor"
  "size|gen churn --churn-live"
  "decimal|gen churn --churn-sg-fraction"
  "count|stress --max-events"
  "count|stress --seed"
  "size|stress --max-bytes"
  "size|stress --jitter"
  "decimal|stress --max-seconds"
  "decimal|stress --shrink-seconds"
  "count|stress --churn-long-factor"
  "count|sweep $work/sweep.toml --jobs"
  "count|sweep $work/sweep.toml --group"
  "count|report $work/out.json -o $work/r.html --max-lines"
  "count|bandwidth --iterations"
  "size|bandwidth --size"
)
for entry in "${flags[@]}"; do
  kind=${entry%%|*}
  read -r -a cmd <<<"${entry#*|}"
  flag=${cmd[${#cmd[@]} - 1]}
  long=$flag
  [ "$flag" = -n ] && long=--events
  [ "$flag" = -s ] && long=--seed
  expect "$flag: -1 is refused, not wrapped" 1 "^$long: '-1': .*no sign" -- "$dartlab" "${cmd[@]}" -1
  expect "$flag: +1 is refused" 1 "^$long: '\\+1': .*no sign" -- "$dartlab" "${cmd[@]}" +1
  case $kind in
    count) expect "$flag: 2^64 overflows with a message" 1 "^$long: '$too_big' is too large \\(at most [0-9]+\\)" -- \
             "$dartlab" "${cmd[@]}" "$too_big" ;;
    size) expect "$flag: 2^64 / 2^24 T overflow with a message" 1 "^$long: '16777216T' is too large" -- \
            "$dartlab" "${cmd[@]}" 16777216T ;;
    decimal) expect "$flag: inf is no number" 1 "^$long: 'inf' is not a decimal number" -- "$dartlab" "${cmd[@]}" inf ;;
  esac
done
# -n -2 used to stream without end: it must end at once with the error.
expect "gen -n -2 ends with the error" 1 "^--events: '-2': a count takes no sign" -- timeout 20 "$dartlab" gen game -n -2
# A value past a 32-bit field is refused, not cut to its low bits.
expect "a 32-bit knob refuses 2^32" 1 "^--churn-long-factor: '4294967296' is too large \\(at most 4294967295\\)" -- \
  "$dartlab" gen churn --churn-long-factor 4294967296
expect "ranges are kept: --group 0" 1 "^--group: '0' is too small \\(at least 1\\)" -- "$dartlab" sweep "$work/sweep.toml" --group 0
expect "ranges are kept: --iterations 1000001" 1 "^--iterations: '1000001' is too large \\(at most 1000000\\)" -- \
  "$dartlab" bandwidth --iterations 1000001
expect "valid values still work" 0 "dartlab-trace v1" -- "$dartlab" gen game -n 0x10 -s 0
# Spec strings: a timed key's value past its field (mps is 32-bit; flush-hw 32-bit ns) is refused.
expect "--link mps past 2^32 is refused, not wrapped to 256" 1 "mps=4294967552: out of range \\(0 to 4294967295\\)" -- \
  "$dartlab" bandwidth --link tb3,mps=4294967552 --size 1M
expect "--dart flush-hw=5s past 2^32 ns is refused" 1 "flush-hw=5s: out of range" -- \
  "$dartlab" bandwidth --dart flush-hw=5s --size 1M
expect "spec counts refuse a sign" 1 "slots=-1: not a count" -- "$dartlab" replay "$work/ok.trace" --dart slots=-1
expect "policy counts refuse a sign" 1 "keep '-1' is not a number" -- "$dartlab" replay "$work/ok.trace" -p lazy:direct,keep=-1
expect "--shard refuses a sign" 1 "--shard '-1/2'" -- "$dartlab" sweep "$work/sweep.toml" --shard -1/2

finish
