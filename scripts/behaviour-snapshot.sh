#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes what dartlab prints for a fixed set of commands over the bundled samples into OUT_DIR,
# one file per command (stdout, stderr and exit code), with wall-clock figures masked. Run it
# before and after a change that must not change behaviour (a restructuring) and compare:
#   scripts/behaviour-snapshot.sh build/release/sim/dartlab /tmp/before
#   ... change, rebuild ...
#   scripts/behaviour-snapshot.sh build/release/sim/dartlab /tmp/after && diff -r /tmp/before /tmp/after
# Usage: behaviour-snapshot.sh DARTLAB OUT_DIR
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DARTLAB OUT_DIR" >&2; exit 1; }
dartlab=$(realpath "$1")
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Wall-clock figures vary run to run: mask them. JSON keys that hold wall time or memory go.
mask_text() {
  sed -E -e "s|$work|WORK|g" -e 's/in [0-9.]+ s \([0-9.]+ [kM]? ?events\/s\)/in T s (R events\/s)/g' \
    -e 's/[0-9.]+ (M |k )?events\/s/R events\/s/g' -e 's/\([0-9.]+ s, /(T s, /g' -e 's/in [0-9.]+ s of wall time/in T s of wall time/g' \
    -e 's/ in [0-9.]+ s\b/ in T s/g'
}
mask_json() {
  python3 -c '
import json, sys
drop = {"wall_seconds", "peak_rss_bytes", "timing", "elapsed_seconds", "seconds", "rate_events_per_second", "events_per_second", "transactions_per_second"}
def clean(v):
    if isinstance(v, dict): return {k: clean(x) for k, x in v.items() if k not in drop}
    if isinstance(v, list): return [clean(x) for x in v]
    return v
text = sys.stdin.read()
try:
    print(json.dumps(clean(json.loads(text)), indent=1, sort_keys=False))
except ValueError:
    sys.stdout.write(text)
'
}

n=0
# run NAME ARGS...: the command's stdout (masked), stderr (masked) and exit code into NAME.
run() {
  local name=$1
  shift
  n=$((n + 1))
  (cd "$work" && "$dartlab" "$@" > "$work/stdout" 2> "$work/stderr"; echo $? > "$work/rc")
  { echo "\$ dartlab $*"; echo "exit $(cat "$work/rc")"; echo "-- stdout"; mask_text < "$work/stdout"; echo "-- stderr"; mask_text < "$work/stderr"; } > "$out/$name.txt"
}
# runjson NAME ARGS...: as run, with --json - and the JSON masked.
runjson() {
  local name=$1
  shift
  n=$((n + 1))
  (cd "$work" && "$dartlab" "$@" --json - -q > "$work/stdout" 2> "$work/stderr"; echo $? > "$work/rc")
  { echo "\$ dartlab $* --json - -q"; echo "exit $(cat "$work/rc")"; echo "-- stdout"; mask_json < "$work/stdout" | sed "s|$work|WORK|g"; echo "-- stderr"; mask_text < "$work/stderr"; } > "$out/$name.json.txt"
}

# Every path is relative to the work directory, so the outputs name the same files every run.
ln -s "$PWD/traces/samples" "$work/samples"
s=samples
texts=("$s/game.trace" "$s/uvm.trace" "$s/llm.trace" "$s/churn.trace")
recordings=("$s/apple-dma-debugfs.csv" "$s/apple-dma-debugfs-wrapped.csv" "$s/qemu-apple-dma.log" "$s/qemu-apple-dma-stderr.log"
            "$s/qemu-apple-dma-real.log" "$s/qemu-apple-dma-real-stderr.log" "$s/real/real-dma.trace" "$s/real/real-iommu.trace"
            $(cd "$work" && echo samples/ftrace-*.txt))
policies=(--policy direct --policy window:64K --policy window:256K --policy window:1M --policy multi:16K,256K,promote=off
          --policy multi:64K,256K,1M --policy lazy:direct,keep=4096 --policy lazy:window:256K,bytes=64M --policy adaptive
          --policy bounce:64M --policy cap:window:256K,windows=100)

run replay-texts replay "${texts[@]}" "${policies[@]}"
runjson replay-texts replay "${texts[@]}" "${policies[@]}"
run replay-recordings replay "${recordings[@]}" "${policies[@]}"
runjson replay-recordings replay "${recordings[@]}" "${policies[@]}"
runjson replay-host-level replay "$s/qemu-apple-dma-real.log" --level host --policy direct
for dart in page=64K alloc=linux alloc=buddy alloc=best-fit duplicate=refuse chunk=64K aperture=64M,slots=2048 variant=t8020; do
  runjson "replay-dart-$dart" replay "$s/game.trace" "$s/uvm.trace" --policy direct --policy window:256K --policy lazy:direct,keep=4096 --dart "$dart"
done
run replay-darts replay "$s/game.trace" --policy window:256K --dart aperture=64M,slots=2048 --dart page=64K
runjson replay-timed replay "$s/game.trace" --timed --policy window:256K
runjson replay-timed-batched replay "$s/game.trace" --timed --policy direct --dart inval=batched
run replay-csv replay "$s/game.trace" --policy window:256K --csv -
for t in "${texts[@]}" "${recordings[@]}"; do
  b=$(basename "$t")
  run "stats-$b" stats "$t"
  runjson "stats-$b" stats "$t"
done
for p in game uvm llm churn; do
  run "gen-$p" gen "$p" -n 5000 -s 7 -o "gen-$p.trace"
  { echo "sha256 $(sha256sum < "$work/gen-$p.trace" | cut -d' ' -f1)"; } >> "$out/gen-$p.txt"
  run "convert-$p" convert "gen-$p.trace" "gen-$p.dlt"
  echo "sha256 $(sha256sum < "$work/gen-$p.dlt" | cut -d' ' -f1)" >> "$out/convert-$p.txt"
done
for t in "${recordings[@]}"; do
  b=$(basename "$t")
  run "convert-$b" convert "$t" "$b.trace"
  echo "sha256 $(sha256sum < "$work/$b.trace" | cut -d' ' -f1)" >> "$out/convert-$b.txt"
done
runjson stress-churn stress --policy window:256K --dart aperture=64M,slots=512 -s 3 --max-events 200000
run stress-shrink stress --policy direct --dart aperture=16M,slots=256 -s 5 --max-events 100000 --shrink -o min.trace
# The shrunk trace's comments say how long shrinking took: hash what is not a comment.
echo "sha256 $(grep -v '^#' "$work/min.trace" 2>/dev/null | sha256sum | cut -d' ' -f1)" >> "$out/stress-shrink.txt"
runjson sweep-policy-lab sweep "$s/policy-lab.toml" --jobs 1
run sweep-policy-lab-csv sweep "$s/policy-lab.toml" --jobs 1 --csv -
run bandwidth-tb3 bandwidth --link tb3 --dir h2d
runjson bandwidth-tb3 bandwidth --link tb3 --dir d2h
# A few refusals: their messages and exit codes are behaviour too.
run err-missing replay no-such.trace --policy direct
run err-policy replay "$s/game.trace" --policy window:3K
run err-dart replay "$s/game.trace" --dart page=3K
run err-format replay "$s/game.trace" --format ftrace
echo "$n commands written to $out"
