#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every figure README.md quotes from a dartlab run, made again by running dartlab. The README
# holds each between markers:
#   <!-- figures:NAME -->
#   ...what this script prints for NAME...
#   <!-- /figures:NAME -->
# Usage: readme-figures.sh DARTLAB [--check | --update] [README]
#   (no option)  print every block
#   --check      exit 1 naming each block of README that differs from what dartlab prints now
#                (tests/cli/readme_figures.sh runs this: the README cannot go stale)
#   --update     rewrite README's blocks in place
# Runs from the repository root (the samples are named as the README names them). Times vary by
# machine and are elided as "…"; every other figure is deterministic (fixed seeds, the bundled
# samples). The performance notes are measurements from `make bench`, not results: not here.
set -euo pipefail
dartlab=$(realpath "$1")
mode=${2:-print}
cd "$(dirname "$0")/.."
readme=${3:-README.md}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1234567 -> 1,234,567
commas() { awk '{ s = $1; o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) } print s o }'; }
# The value of the first "KEY": in a JSON text.
json_field() { grep -o "\"$1\": [-0-9.e+]*" | head -1 | sed 's/.*: //'; }
# A replay table without its wall time and rate: "T: N events in 0.02 s (1.5 M events/s)" -> "T: N events".
untimed() { sed -E 's/^([^ ].*: [0-9]+ events) in [0-9.]+ s \([0-9.]+ M events\/s\)$/\1/' | sed '/^$/d'; }

block_demo() {
  echo '```'
  echo '$ make demo                   # the first two replays, timing aside'
  "$dartlab" replay traces/samples/game.trace --policy direct --policy window:64K --policy window:256K --policy window:1M |
    untimed | grep -v '^  dart:'
  echo
  echo '== the same game under a stingier host: 2048 mappings, 64 MiB'
  "$dartlab" replay traces/samples/game.trace --policy direct --policy window:256K --policy window:1M \
    --dart aperture=64M,slots=2048 | untimed | grep -v '^traces/samples/game.trace:' | grep -v '^  policy' |
    grep -v '^  dart:'
  echo '```'
}

block_policies() {
  echo '```'
  echo '$ dartlab replay traces/samples/game.trace -p window:256K -p multi:16K,256K,promote=off -p multi:16K,256K \'
  echo '                 -p direct -p lazy:direct,keep=4096'
  "$dartlab" replay traces/samples/game.trace -p window:256K -p multi:16K,256K,promote=off -p multi:16K,256K \
    -p direct -p lazy:direct,keep=4096 | untimed | grep -v '^  dart:'
  echo '```'
}

block_realworld() {
  echo '```'
  echo '$ dartlab gen game | dartlab replay - -p window:128K -p cap:window:128K,windows=5600 -p bounce -p bounce:768M'
  "$dartlab" gen game -q | "$dartlab" replay - -p window:128K -p cap:window:128K,windows=5600 -p bounce -p bounce:768M |
    untimed | grep -v '^-:' | grep -v '^  dart:'
  echo '```'
}

block_host() {
  echo '```'
  echo '$ dartlab replay traces/samples/game.trace -p window:256K -p direct -p multi:16K,256K --dart "" --dart duplicate=refuse'
  "$dartlab" replay traces/samples/game.trace -p window:256K -p direct -p multi:16K,256K --dart "" \
    --dart duplicate=refuse | untimed
  echo '```'
}

block_calibration() {
  echo '```'
  echo '$ dartlab gen game | dartlab replay - -p direct -p window:256K --dart aperture=max,slots=unlimited --dart ""'
  "$dartlab" gen game -q | "$dartlab" replay - -p direct -p window:256K --dart aperture=max,slots=unlimited --dart "" |
    untimed | grep -v '^-:'
  echo '$ dartlab gen game-large | dartlab replay - -p direct -p window:64K -p window:256K -p window:1M'
  "$dartlab" gen game-large -q | "$dartlab" replay - -p direct -p window:64K -p window:256K -p window:1M |
    untimed | grep -v '^-:' | grep -v '^  dart:'
  echo '```'
}

block_stress() {
  echo '```'
  echo '$ dartlab stress --policy window:1M --dart aperture=92M --churn-live 64M --churn-max 1M --seed 2 --shrink'
  (cd "$work" && "$dartlab" stress --policy window:1M --dart aperture=92M --churn-live 64M --churn-max 1M --seed 2 \
    --shrink || [ $? -eq 4 ]) |  # 4: the failure it looks for
    sed -E 's/\([0-9.]+ s, [0-9]+ events\/s\)/(… s, … events\/s)/; s/ in [0-9.]+ s, ([0-9]+ replays)/ in … s, \1/' |
    awk '/^wrote / { print; skip = 1; next } /^see it fail/ { skip = 0 } !skip { print }'
  echo '```'
}

# A shrink: SPEC... -> "| label | reason | events to failure | shrunk to | replays |"
shrink_row() {
  local label=$1
  shift
  local out
  out=$(cd "$work" && "$dartlab" stress "$@" --shrink --shrink-seconds 600 -q -o row.trace || true)
  local reason events shrunk replays
  reason=$(sed -n 's/.*, reason \([a-z]*\)$/\1/p' <<<"$out")
  events=$(sed -n 's/^FAILED at event \([0-9]*\):.*/\1/p' <<<"$out" | commas)
  shrunk=$(sed -n 's/^shrink: .* -> \([0-9]*\) events .*/\1/p' <<<"$out" | commas)
  replays=$(sed -n 's/^shrink: .*, \([0-9]*\) replays$/\1/p' <<<"$out" | commas)
  echo "| $label | $reason | $events | $shrunk | $replays |"
}

block_shrink() {
  echo '| soak (churn, `--churn-live` / `--churn-max`) | reason | events to failure | shrunk to | replays |'
  echo '|---|---|---|---|---|'
  shrink_row "window:1M, slots=300 (256M / 4M, seed 1)" --policy window:1M --dart slots=300 --churn-live 256M \
    --churn-max 4M --seed 1
  shrink_row "window:1M, aperture=96M (64M / 1M, seed 1)" --policy window:1M --dart aperture=96M --churn-live 64M \
    --churn-max 1M --seed 1
  shrink_row "window:1M, aperture=92M (64M / 1M, seed 2)" --policy window:1M --dart aperture=92M --churn-live 64M \
    --churn-max 1M --seed 2
  shrink_row "window:1M, aperture=384M (256M / 4M, seed 1)" --policy window:1M --dart aperture=384M --churn-live 256M \
    --churn-max 4M --seed 1
}

block_timed() {
  local tb3 tb3_gb dp_gb gen4 strict batched
  tb3=$("$dartlab" bandwidth --link tb3 --dir h2d --json - | json_field gib_per_s)
  tb3_gb=$("$dartlab" bandwidth --link tb3 --dir h2d --json - | json_field gb_per_s)
  dp_gb=$("$dartlab" bandwidth --link tb3,dp=17280 --dir h2d --json - | json_field gb_per_s)
  gen4=$("$dartlab" bandwidth --link pcie-gen4-x16 --dir h2d --json - | json_field gb_per_s)
  strict=$("$dartlab" replay traces/samples/game.trace --timed --dart inval=strict --json - -q |
    json_field invalidation_ns_per_host_map)
  batched=$("$dartlab" replay traces/samples/game.trace --timed --dart inval=batched --json - -q |
    json_field invalidation_ns_per_host_map)
  echo '| figure | source | model |'
  echo '|---|---|---|'
  awk -v tb3="$tb3" 'BEGIN { printf "| a Gen3 x4 device behind Thunderbolt reads host memory at about 3.1 GiB/s | observed ([background](docs/BACKGROUND.md#thunderbolt-and-usb4)) | `bandwidth --link tb3 --dir h2d`: %.2f GiB/s (%+.1f%%) |\n", tb3, (tb3 / 3.1 - 1) * 100 }'
  awk -v gb="$gen4" 'BEGIN { printf "| desktop pinned-memory bandwidthTest, Gen4 x16 host-to-device: 24-26 GB/s | observed ([background](docs/BACKGROUND.md#thunderbolt-and-usb4)) | `bandwidth --link pcie-gen4-x16 --dir h2d`: %.2f GB/s |\n", gb }'
  awk -v s="$strict" -v b="$batched" 'BEGIN { printf "| strict per-map IOTLB invalidation costs at least 5x a batched flush | rIOMMU (ASPLOS 2015), Peleg et al. (ATC 2015) | invalidation time per host map on game.trace: %.0f ns strict vs %.1f ns batched (%.0fx) |\n", s, b, s / b }'
  awk -v a="$tb3_gb" -v d="$dp_gb" 'BEGIN { printf "| typical eGPU host-to-device writes 19-22 Gb/s (a comparison, not a calibration) | observed | tb3: %.1f Gb/s with no display tunnelled, %.1f Gb/s with one HBR2 x4 display reserved (`dp=17280`) |\n", a * 8, d * 8 }'
}

blocks=(demo policies realworld host calibration stress shrink timed)
for b in "${blocks[@]}"; do "block_$b" >"$work/$b"; done

case $mode in
  print)
    for b in "${blocks[@]}"; do echo "<!-- figures:$b -->"; cat "$work/$b"; echo "<!-- /figures:$b -->"; done ;;
  --check | --update)
    stale=0
    for b in "${blocks[@]}"; do
      if ! grep -qx "<!-- figures:$b -->" "$readme"; then
        echo "readme-figures: $readme has no block '$b'" >&2
        stale=1
        continue
      fi
      awk -v b="$b" '$0 == "<!-- figures:" b " -->" { on = 1; next } $0 == "<!-- /figures:" b " -->" { on = 0 } on' \
        "$readme" >"$work/$b.now"
      if ! cmp -s "$work/$b" "$work/$b.now"; then
        if [ "$mode" = --check ]; then
          echo "readme-figures: block '$b' of $readme is stale:" >&2
          diff "$work/$b.now" "$work/$b" >&2 || true
          stale=1
        else
          awk -v b="$b" -v file="$work/$b" '
            $0 == "<!-- figures:" b " -->" { print; while ((getline line < file) > 0) print line; on = 1; next }
            $0 == "<!-- /figures:" b " -->" { on = 0 }
            !on' "$readme" >"$work/readme.new"
          cat "$work/readme.new" >"$readme"
          echo "readme-figures: updated block '$b'"
        fi
      fi
    done
    [ "$mode" = --update ] || exit "$stale" ;;
  *)
    echo "usage: readme-figures.sh DARTLAB [--check | --update] [README]" >&2
    exit 1 ;;
esac
