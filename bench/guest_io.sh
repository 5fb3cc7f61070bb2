#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sequential I/O of a real Linux guest's NVMe through apple_dma, apple-dma-pci and the DART,
# against the same guest with no apple-dma-pci at all (its NVMe does plain DMA: without the module
# no DMA could reach the host behind a DART). Numbers only, never pass/fail.
#
#   bench/guest_io.sh [--runs N] [--mib M] [--json FILE]      (make bench-guest; needs make qemu)
#
# Each configuration boots --runs times (default 3); the table shows medians: MiB/s of O_DIRECT
# writes and reads in 1 MiB requests, each as a ratio to the plain guest in the same run, and the
# doorbells and host (DART) map calls per MiB moved (reads and writes together). QEMU traces
# nothing here (a log line per request would be measured too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 mib=256 json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --mib) mib=${2:?}; shift 2 ;;
    --json) json=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "guest_io: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "guest_io: --runs wants a positive count" >&2; exit 2; }
[[ "$mib" =~ ^[1-9][0-9]*$ ]] && [ "$mib" -le 400 ] || { echo "guest_io: --mib wants 1..400 (the disk is 512 MiB)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scenarios=$root/tests/guest/scenarios

# config name | run-guest.sh device flags | module parameters
configs=(
  "plain|--no-adma|"
  "interface 2, window_shift=18|--adma interface=2|interface=2 window_shift=18"
  "interface 3, window:256K|--adma interface=3,policy=window:256K|interface=3"
)

field() { sed -n "s/^$1 .* $2=\([^ ]*\).*/\1/p" "$3"; }   # field TAG KEY dmacheck.log
counter() { sed -n "s/^$1: //p" "$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A write read doorbells maps
for c in "${configs[@]}"; do
  IFS='|' read -r name flags params <<<"$c"
  adma=1; [ "$flags" = --no-adma ] && adma=0
  for i in $(seq "$runs"); do
    dir="$work/$adma-${params// /_}-$i"
    printf 'ADMA=%s\nBENCH_MIB=%s\nADMA_PARAMS=%q\n. /scenario/files/lib.sh\n. /scenario/files/bench.sh\n' \
      "$adma" "$mib" "$params" > "$work/run.sh"
    # shellcheck disable=SC2086 # flags are words
    "$root/scripts/run-guest.sh" --script "$work/run.sh" --file "$scenarios/lib.sh" --file "$scenarios/bench.sh" \
      $flags --trace "" --results "$dir" >"$work/log" 2>&1 || { cat "$work/log" >&2; echo "guest_io: $name: the guest run failed" >&2; exit 1; }
    log=$dir/guest/dmacheck.log
    write[$name]+="$(field bench-write mib_s "$log") "
    read[$name]+="$(field bench-read mib_s "$log") "
    if [ "$adma" = 1 ]; then
      db=$(( $(counter doorbells "$dir/guest/end.stats") - $(counter doorbells "$dir/guest/start.stats") ))
      hm=$(( $(counter host_map_calls "$dir/guest/end.device") - $(counter host_map_calls "$dir/guest/start.device") ))
      doorbells[$name]+="$(awk -v n="$db" -v m="$mib" 'BEGIN { print n / (2 * m) }') "
      maps[$name]+="$(awk -v n="$hm" -v m="$mib" 'BEGIN { print n / (2 * m) }') "
    fi
    printf '.' >&2
  done
done
echo >&2

accel=$(sed -n 's/^accel=//p' "$dir/run.txt")
base_w=$(tr ' ' '\n' <<<"${write[plain]}" | grep . | median)
base_r=$(tr ' ' '\n' <<<"${read[plain]}" | grep . | median)
echo "== a real guest's NVMe, $mib MiB O_DIRECT in 1 MiB requests, median of $runs boots ($accel)"
printf '%-30s %11s %11s %8s %8s %14s %14s\n' "configuration" "write MiB/s" "read MiB/s" "write x" "read x" "doorbells/MiB" "host maps/MiB"
rows=()
for c in "${configs[@]}"; do
  IFS='|' read -r name _ _ <<<"$c"
  w=$(tr ' ' '\n' <<<"${write[$name]}" | grep . | median)
  r=$(tr ' ' '\n' <<<"${read[$name]}" | grep . | median)
  d="" m=""
  if [ -n "${doorbells[$name]:-}" ]; then
    d=$(tr ' ' '\n' <<<"${doorbells[$name]}" | grep . | median | xargs printf '%.2f')
    m=$(tr ' ' '\n' <<<"${maps[$name]}" | grep . | median | xargs printf '%.2f')
  fi
  printf '%-30s %11.1f %11.1f %8.2f %8.2f %14s %14s\n' "$name" "$w" "$r" "$(awk -v a="$w" -v b="$base_w" 'BEGIN { print a / b }')" \
    "$(awk -v a="$r" -v b="$base_r" 'BEGIN { print a / b }')" "${d:--}" "${m:--}"
  rows+=("{\"configuration\":\"$name\",\"write_mib_s\":$w,\"read_mib_s\":$r,\"doorbells_per_mib\":${d:-null},\"host_maps_per_mib\":${m:-null}}")
done
if [ -n "$json" ]; then
  (IFS=,; printf '{"accel":"%s","mib":%s,"runs":%s,"results":[%s]}\n' "$accel" "$mib" "$runs" "${rows[*]}") > "$json"
fi
