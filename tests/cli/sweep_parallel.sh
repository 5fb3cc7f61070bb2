#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A small sweep (the bundled samples, 12 points) run whole, then as 3 shards through GNU parallel
# and merged: the merge must equal the whole run byte for byte (JSON up to "timing", all CSV).
# Usage: sweep_parallel.sh DARTLAB_BINARY SOURCE_DIR
set -euo pipefail
dartlab=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v parallel >/dev/null || { echo "FAIL: GNU parallel is not installed (scripts/install-deps.sh)"; exit 1; }

cat >"$work/small.toml" <<T
name = "samples"
traces = ["$src/traces/samples/game.trace", "$src/traces/samples/llm.trace"]
policies = ["direct", "window:{size}"]
darts = ["", "slots=2048,aperture=64M"]
[params]
size = ["64K", "256K"]
T
cd "$work"
"$dartlab" sweep small.toml --json whole.json --csv whole.csv -q
parallel --will-cite "$dartlab" sweep small.toml --shard {}/3 --json shard{}.json -q ::: 1 2 3
"$dartlab" merge shard3.json shard1.json shard2.json --json merged.json --csv merged.csv -q

before_timing() { sed '/^  "timing": {/,$d' "$1"; }
status=0
grep -q '"points": 12,' whole.json || { echo "FAIL: the sweep does not have 12 points"; status=1; }
grep -q '"pareto": true' whole.json || { echo "FAIL: no point on the frontier"; status=1; }
for i in 1 2 3; do
  grep -q "\"index\": $i," "shard$i.json" || { echo "FAIL: shard$i.json does not say it is shard $i"; status=1; }
done
cmp <(before_timing whole.json) <(before_timing merged.json) || { echo "FAIL: merged JSON differs from the whole run"; status=1; }
cmp whole.csv merged.csv || { echo "FAIL: merged CSV differs from the whole run"; status=1; }
[ "$(grep -c '"host"' merged.json)" -eq 3 ] || { echo "FAIL: merged timing does not list 3 runs"; status=1; }
[ "$status" -eq 0 ] && echo "sweep through GNU parallel: merge equals the whole run"
exit "$status"
