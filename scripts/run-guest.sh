#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots dartlab's Linux guest (scripts/build-guest.sh) in our QEMU (scripts/build-qemu.sh) with an
# NVMe disk managed by apple-dma-pci, runs a scenario script in it and collects its results; or
# boots to an interactive shell. Protocol and layout: docs/guest-image.md.
#
#   scripts/run-guest.sh --script FILE [--results DIR] [options] [-- QEMU ARGS...]
#   scripts/run-guest.sh --shell [options] [-- QEMU ARGS...]
#
# Options:
#   --script FILE        the scenario: /scenario/run.sh in the guest, run by busybox sh in /results
#   --file SRC[:NAME]    also put SRC into the guest as /scenario/files/NAME (default: its basename);
#                        repeatable (another build of a module, a data file, ...)
#   --results DIR        where the results land (default build/guest-run): DIR/guest/ holds the
#                        guest's /results, DIR/console.log the serial console, DIR/qemu.log QEMU's
#                        log with the trace events, DIR/run.txt the timings. DIR must be empty or
#                        one this script wrote before (it is then cleared).
#   --shell              boot to a shell on this terminal (dartlab.shell; Ctrl-a x quits QEMU);
#                        QEMU's log (trace events) goes to DIR/qemu.log
#   --adma PROPS         apple-dma-pci properties as QEMU takes them, e.g.
#                        'interface=3,policy=window:256K,dart=slots=64,,aperture=4M'
#   --dart SPEC          the DART spec as dartlab writes it ('slots=64,aperture=4M'): its commas
#                        are doubled for QEMU here
#   --no-adma            no apple-dma-pci at all: the NVMe does plain DMA (a baseline)
#   --disk-size SIZE     the managed NVMe's sparse raw image (default 512M; truncate's sizes)
#   --accel auto|kvm|tcg KVM when it really boots the guest here (checked once per host boot),
#                        else TCG (default auto); kvm or tcg forces one
#   --entry pvh|bzimage  boot the uncompressed kernel through its PVH entry (default: faster) or
#                        the compressed bzImage
#   --append ARGS        more kernel command line
#   --trace PATTERN      QEMU trace events into DIR/qemu.log (default 'apple_dma_*'; '' for none)
#   --timeout SECONDS    kill QEMU after this long (default 300)
#   --results-size SIZE  the results region (ivshmem BAR, a power of two, default 64M)
#   --mem SIZE           guest memory (default 1G)
#   -v, --verbose        show the console while the guest runs
#
# Exit codes: 0 the scenario ran and exited 0; 1 the scenario exited non-zero (its status is in
# DIR/guest/status); 2 bad usage or a missing build; 3 QEMU failed; 4 the guest panicked, oopsed
# or hit a kernel BUG; 5 timeout; 6 the guest sent no (or unreadable) results.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# (DARTLAB_QEMU and DARTLAB_GUEST, as ctest sets them, name another build.)
qemu="${DARTLAB_QEMU:-$root/build/qemu/qemu-system-x86_64}"
guest="${DARTLAB_GUEST:-$root/build/guest}"

usage_error() { echo "run-guest: error: $*" >&2; echo "usage: scripts/run-guest.sh --script FILE | --shell [options] (see the header of this script)" >&2; exit 2; }
fail() { local code=$1; shift; echo "run-guest: error: $*" >&2; exit "$code"; }
log() { echo "run-guest: $*" >&2; }

script="" results="$root/build/guest-run" shell=0 adma="" dart="" use_adma=1 disk_size=512M
accel=auto entry=pvh append="" trace='apple_dma_*' timeout_s=300 results_size=64M mem=1G verbose=0
files=() extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --script) script=${2:?--script needs a file}; shift 2 ;;
    --file) files+=("${2:?--file needs SRC[:NAME]}"); shift 2 ;;
    --results) results=${2:?--results needs a directory}; shift 2 ;;
    --shell) shell=1; shift ;;
    --adma) adma=${2?--adma needs properties}; shift 2 ;;
    --dart) dart=${2:?--dart needs a spec}; shift 2 ;;
    --no-adma) use_adma=0; shift ;;
    --disk-size) disk_size=${2:?--disk-size needs a size}; shift 2 ;;
    --accel) accel=${2:?--accel needs auto, kvm or tcg}; shift 2 ;;
    --entry) entry=${2:?--entry needs pvh or bzimage}; shift 2 ;;
    --append) append=${2?--append needs arguments}; shift 2 ;;
    --trace) trace=${2?--trace needs a pattern}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --results-size) results_size=${2:?--results-size needs a size}; shift 2 ;;
    --mem) mem=${2:?--mem needs a size}; shift 2 ;;
    -v|--verbose) verbose=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done

# Hostile flags get checked before anything runs.
[ "$shell" -eq 1 ] || [ -n "$script" ] || usage_error "give --script FILE or --shell"
[ "$shell" -eq 0 ] || [ -z "$script" ] || usage_error "--script and --shell exclude each other"
[ -z "$script" ] || [ -f "$script" ] || usage_error "--script $script: no such file"
case "$accel" in auto|kvm|tcg) ;; *) usage_error "--accel $accel: want auto, kvm or tcg" ;; esac
case "$entry" in pvh|bzimage) ;; *) usage_error "--entry $entry: want pvh or bzimage" ;; esac
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout $timeout_s: want a whole number of seconds"
[[ "$disk_size" =~ ^[1-9][0-9]*[KMG]?$ ]] || usage_error "--disk-size $disk_size: want a size like 512M"
[[ "$results_size" =~ ^[1-9][0-9]*[KMG]?$ ]] || usage_error "--results-size $results_size: want a size like 64M"
[[ "$mem" =~ ^[1-9][0-9]*[MG]?$ ]] || usage_error "--mem $mem: want a size like 1G"
[ -z "$dart" ] || [[ "$dart" != *,,* ]] || usage_error "--dart '$dart': write it as dartlab does (single commas); --adma takes QEMU's form"
[ "$use_adma" -eq 1 ] || { [ -z "$adma" ] && [ -z "$dart" ]; } || usage_error "--no-adma excludes --adma and --dart"
for spec in ${files[@]+"${files[@]}"}; do
  src=${spec%%:*}
  [ -f "$src" ] || usage_error "--file $spec: no such file $src"
  name=${spec#"$src"}; name=${name#:}
  [ -z "$name" ] || [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || usage_error "--file $spec: NAME may hold letters, digits, '.', '_', '-' only"
done
[ -x "$qemu" ] || usage_error "$qemu is missing: make qemu"
kernel="$guest/vmlinux"; [ "$entry" = pvh ] || kernel="$guest/vmlinuz"
for f in "$kernel" "$guest/initramfs.cpio"; do
  [ -f "$f" ] || usage_error "$f is missing: make guest"
done

# The results directory: ours to clear, never someone else's.
if [ -e "$results" ]; then
  [ -d "$results" ] || usage_error "--results $results is not a directory"
  if [ -n "$(ls -A "$results")" ]; then
    [ -f "$results/.dartlab-guest-results" ] || usage_error "--results $results is not empty and was not written by run-guest.sh"
    rm -rf "${results:?}"/* "$results"/.dartlab-guest-results
  fi
fi
mkdir -p "$results"
touch "$results/.dartlab-guest-results"
results=$(cd "$results" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/dartlab-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# boot TIMEOUT CONSOLE STDERR QEMU-ARGS...: runs QEMU (console to CONSOLE) and returns its exit
# code (124/137: timeout). A watcher beside it notes when /init's first line reaches the console
# (QEMU start to init, wall clock, 50 ms resolution) into $work/init-seen, shows the console as it
# grows with -v, and stops QEMU at once on a KVM internal error (QEMU would sit paused until the
# timeout), noting it in $work/kvm-error.
boot() {
  local limit=$1 con=$2 err=$3
  shift 3
  rm -f "$work/init-seen" "$work/kvm-error"
  : > "$con"
  timeout -k 5 "$limit" "$qemu" "$@" -serial "file:$con" </dev/null >"$err" 2>&1 &
  local pid=$!
  (
    shown=0
    while kill -0 "$pid" 2>/dev/null; do
      if [ ! -f "$work/init-seen" ] && grep -q '^dartlab-init: init at' "$con" 2>/dev/null; then
        echo "$EPOCHREALTIME" > "$work/init-seen"
      fi
      if grep -q 'KVM internal error' "$err" 2>/dev/null; then
        touch "$work/kvm-error"
        kill "$pid" 2>/dev/null
        break
      fi
      if [ "$verbose" -eq 1 ]; then
        size=$(stat -c %s "$con" 2>/dev/null || echo 0)
        [ "$size" -le "$shown" ] || { tail -c +$((shown + 1)) "$con" | head -c $((size - shown)) >&2; shown=$size; }
      fi
      sleep 0.05
    done
  ) &
  local watcher=$!
  local rc=0
  wait "$pid" || rc=$?
  wait "$watcher" 2>/dev/null || true
  return "$rc"
}

# KVM only when it really runs this kernel. /dev/kvm may open and even run a few real-mode
# instructions, yet fail a Linux boot (this project's own machines: a nested KVM whose emulator
# stops at the kernel's first cmpxchg16b with "KVM internal error"). So the probe boots the guest
# with dartlab.probe, whose /init says "probe ok" and powers off at once. The verdict is kept
# per host boot, QEMU binary and kernel in build/guest/.kvm-probe. The probe gets 10 s: TCG boots
# this guest to init in about 2 s here, so a KVM that needs longer is no gain.
kvm_runs() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  local key verdict
  key="$(cat /proc/sys/kernel/random/boot_id) $(stat -c %Y:%s "$qemu" "$kernel" | paste -sd' ')"
  verdict=$(awk -v k="$key" 'substr($0, 1, length(k)) == k { print substr($0, length(k) + 2) }' "$guest/.kvm-probe" 2>/dev/null)
  if [ -z "$verdict" ]; then
    verdict=no
    if boot 10 "$work/probe-console.log" "$work/probe-stderr.log" -accel kvm -machine pc -cpu host -m "$mem" -smp 1 \
         -nodefaults -no-reboot -display none -kernel "$kernel" -initrd "$guest/initramfs.cpio" \
         -append "console=ttyS0 quiet mitigations=off panic=-1 dartlab.probe" \
       && grep -q '^dartlab-init: probe ok' "$work/probe-console.log"; then
      verdict=yes
    fi
    echo "$key $verdict" >> "$guest/.kvm-probe"
    [ "$verdict" = yes ] || log "KVM does not boot the guest here$( [ ! -f "$work/kvm-error" ] || echo ' (KVM internal error)'): TCG from now on"
  fi
  [ "$verdict" = yes ]
}
case "$accel" in
  auto) if kvm_runs; then accel=kvm; else accel=tcg; fi ;;
esac
cpu_args=(); [ "$accel" = tcg ] || cpu_args=(-cpu host)

# The initramfs: build-guest's, with the scenario appended as a second cpio archive (the kernel
# unpacks concatenated archives in turn).
initrd="$guest/initramfs.cpio"
if [ -n "$script" ]; then
  mkdir -p "$work/scenario/scenario/files"
  install -m 755 "$script" "$work/scenario/scenario/run.sh"
  for spec in ${files[@]+"${files[@]}"}; do
    src=${spec%%:*}; name=${spec#"$src"}; name=${name#:}
    cp "$src" "$work/scenario/scenario/files/${name:-$(basename "$src")}"
  done
  python3 "$root/scripts/mkcpio.py" "$work/scenario.cpio" "$work/scenario"
  cat "$guest/initramfs.cpio" "$work/scenario.cpio" > "$work/initrd.cpio"
  initrd="$work/initrd.cpio"
fi

truncate -s "$disk_size" "$work/data.img"
cmdline="console=ttyS0 quiet mitigations=off panic=-1"
[ "$shell" -eq 0 ] || cmdline="$cmdline dartlab.shell"
[ -z "$append" ] || cmdline="$cmdline $append"
# shellcheck disable=SC2054  # QEMU's options are comma lists, not array separators
args=(
  -accel "$accel" -machine pc ${cpu_args[@]+"${cpu_args[@]}"} -m "$mem" -smp 1
  -nodefaults -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
  -drive "file=$work/data.img,if=none,id=data,format=raw"
  -device nvme,id=gpu0,serial=dartlab-data,drive=data
)
if [ "$use_adma" -eq 1 ]; then
  props="managed=gpu0"
  [ -z "$adma" ] || props="$props,$adma"
  [ -z "$dart" ] || props="$props,dart=${dart//,/,,}"
  args+=(-device "apple-dma-pci,$props")
fi

if [ "$shell" -eq 1 ]; then
  log "booting to a shell ($accel): 'poweroff -f' or Ctrl-a x to leave; QEMU's log: $results/qemu.log"
  rc=0
  "$qemu" "${args[@]}" -nographic -serial mon:stdio ${trace:+-trace "$trace"} -D "$results/qemu.log" ${extra[@]+"${extra[@]}"} || rc=$?
  exit "$rc"
fi

console="$results/console.log"

truncate -s "$results_size" "$work/results.bin"
# shellcheck disable=SC2054
args+=(
  -display none
  -object "memory-backend-file,id=results,mem-path=$work/results.bin,size=$results_size,share=on"
  -device ivshmem-plain,memdev=results
  -D "$results/qemu.log"
)
[ -z "$trace" ] || args+=(-trace "$trace")
args+=(${extra[@]+"${extra[@]}"})
cmd=("$qemu" "${args[@]}" -serial "file:$console")
echo "${cmd[*]@Q}" > "$results/qemu-command.txt"   # the exact command, quoted for a shell

start=$EPOCHREALTIME
qemu_rc=0
boot "$timeout_s" "$console" "$results/qemu-stderr.log" "${args[@]}" || qemu_rc=$?
end=$EPOCHREALTIME

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
total_s=$(elapsed "$start" "$end")
init_s=""; [ ! -f "$work/init-seen" ] || init_s=$(elapsed "$start" "$(cat "$work/init-seen")")
kernel_init_s=$(sed -n 's/^dartlab-init: init at \([0-9.]*\) s.*/\1/p' "$console" | head -1)
{
  echo "accel=$accel"
  echo "entry=$entry"
  echo "qemu_to_init_s=$init_s"
  echo "kernel_uptime_at_init_s=$kernel_init_s"
  echo "total_s=$total_s"
  echo "qemu_exit=$qemu_rc"
} > "$results/run.txt"

# Verdicts, most specific first.
panic=$(grep -m1 -E 'Kernel panic|Oops:|BUG: |general protection fault' "$console" || true)
[ -z "$panic" ] || fail 4 "the guest failed: '$panic' (console: $console)"
[ ! -f "$work/kvm-error" ] || fail 3 "KVM failed to run the guest: 'KVM internal error' (stderr: $results/qemu-stderr.log); --accel tcg avoids it"
[ "$qemu_rc" -ne 124 ] && [ "$qemu_rc" -ne 137 ] || fail 5 "timeout: the guest ran longer than $timeout_s s (console: $console)"
[ "$qemu_rc" -eq 0 ] || { tail -5 "$results/qemu-stderr.log" >&2; fail 3 "QEMU exited with $qemu_rc (stderr: $results/qemu-stderr.log)"; }

# The results region: a text header at 0 (written last by the guest), the tar at 4096.
header=$(head -c 4096 "$work/results.bin" | tr -d '\0')
[ "$(head -1 <<<"$header")" = "dartlab-results v1" ] || fail 6 "the guest sent no results (console: $console)"
err=$(sed -n 's/^error=//p' <<<"$header")
[ -z "$err" ] || fail 6 "the guest's results: $err (raise --results-size)"
length=$(sed -n 's/^length=\([0-9]*\)$/\1/p' <<<"$header")
status=$(sed -n 's/^status=\([0-9]*\)$/\1/p' <<<"$header")
[ -n "$length" ] && [ -n "$status" ] || fail 6 "unreadable results header: $header"
mkdir -p "$results/guest"
dd if="$work/results.bin" iflag=skip_bytes,count_bytes skip=4096 count="$length" bs=1M status=none \
  | tar -x -C "$results/guest" || fail 6 "the results archive ($length bytes) does not unpack"
echo "results_bytes=$length" >> "$results/run.txt"
echo "scenario_status=$status" >> "$results/run.txt"

log "$accel, $entry: init after ${init_s:-?} s (kernel clock ${kernel_init_s:-?} s), done in $total_s s; results in $results"
[ "$status" -eq 0 ] || fail 1 "the scenario exited $status (its log: $results/guest/scenario.log)"
