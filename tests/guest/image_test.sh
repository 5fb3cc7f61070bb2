#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host-side tests of the Linux guest image and its runner (docs/guest-image.md): build-guest.sh's
# cache, the smoke scenario, and every verdict of run-guest.sh (scenario status, panic, timeout,
# results too large, bad usage, QEMU refusing the device). Boots the guest about seven times
# (TCG here: about 40 s in all).
# Usage: image_test.sh SOURCE_DIR
set -uo pipefail
src=$1
run_guest="$src/scripts/run-guest.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$src/tests/support/check.sh"
# guest NAME EXPECTED_EXIT [run-guest.sh args...]: runs a boot into $work/NAME, output in $work/NAME.out
guest() {
  local name=$1 want=$2
  shift 2
  "$run_guest" --results "$work/$name" "$@" >"$work/$name.out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $name: run-guest.sh exited $rc, expected $want"; sed 's/^/  | /' "$work/$name.out" | tail -15
    [ ! -f "$work/$name/console.log" ] || { echo "  console:"; tail -15 "$work/$name/console.log" | sed 's/^/  | /'; }
    failed=$((failed + 1))
    return 1
  fi
  passed=$((passed + 1))
}
value() { sed -n "s/^$2=//p" "$1" 2>/dev/null; }  # value FILE KEY

# 1. A second build-guest.sh run downloads, unpacks and rebuilds nothing (the first brings the
#    tree up to date with the sources as they are now).
"$src/scripts/build-guest.sh" >"$work/build0.out" 2>&1 || { echo "FAIL: build-guest.sh"; cat "$work/build0.out"; exit 1; }
outputs=("$src"/build/guest/{vmlinux,vmlinuz,initramfs.cpio,module/apple_dma.ko} "$src"/build/guest/tools/* "$src"/build/guest-dl/*.deb)
before=$(stat -c '%n %Y %s' "${outputs[@]}" 2>&1)
"$src/scripts/build-guest.sh" >"$work/build.out" 2>&1
rc=$?
after=$(stat -c '%n %Y %s' "${outputs[@]}" 2>&1)
check "build-guest.sh succeeds on a built tree" [ "$rc" -eq 0 ]
check "a second build-guest.sh run does no work" bash -c '! grep -Eq "downloading|unpacking|building|writing" "$1"' _ "$work/build.out"
check "a second build-guest.sh run leaves every output as it was" [ "$before" = "$after" ]

# 2. The smoke scenario: plain NVMe, 64 MiB through O_DIRECT, checksums equal.
if guest smoke 0 --script "$src/tests/guest/smoke.sh" --no-adma; then
  check "smoke: the guest reports status 0" [ "$(cat "$work/smoke/guest/status")" = 0 ]
  check "smoke: the checksums were compared and agree" bash -c \
    '[ -n "$1" ] && [ "$1" = "$2" ]' _ "$(value "$work/smoke/guest/smoke.txt" written_md5)" "$(value "$work/smoke/guest/smoke.txt" read_md5)"
  check "smoke: the data disk was found by its serial" [ -n "$(value "$work/smoke/guest/smoke.txt" disk)" ]
  check "smoke: the boot time to init was measured" [ -n "$(value "$work/smoke/run.txt" qemu_to_init_s)" ]
  check "smoke: the scenario log came back" grep -q 'written and read back intact' "$work/smoke/guest/scenario.log"
fi

# 3. A scenario's status, its files and --file inputs travel both ways.
head -c 300000 /dev/urandom > "$work/payload.bin"
cat > "$work/status.sh" <<'EOF'
echo hello > /results/hello.txt
sha256sum /scenario/files/payload | cut -d' ' -f1 > /results/payload.sha256
mkdir -p /results/sub && cp /scenario/files/payload /results/sub/payload.copy
exit 3
EOF
if guest status 1 --script "$work/status.sh" --no-adma --file "$work/payload.bin:payload"; then
  check "status: the scenario's exit status is reported" [ "$(value "$work/status/run.txt" scenario_status)" = 3 ]
  check "status: the failure names the status" grep -q 'the scenario exited 3' "$work/status.out"
  check "status: a file written in the guest arrives" [ "$(cat "$work/status/guest/hello.txt")" = hello ]
  check "status: a --file input arrives intact in the guest" \
    [ "$(cat "$work/status/guest/payload.sha256")" = "$(sha256sum "$work/payload.bin" | cut -d' ' -f1)" ]
  check "status: a binary result in a subdirectory arrives intact" cmp -s "$work/payload.bin" "$work/status/guest/sub/payload.copy"
fi

# 4. A kernel panic is a failure, found in the console log.
printf 'echo c > /proc/sysrq-trigger\nsleep 30\n' > "$work/panic.sh"
guest panic 4 --script "$work/panic.sh" --no-adma --timeout 120 \
  && check "panic: the message quotes the console" grep -q "Kernel panic" "$work/panic.out"

# 5. A guest that never finishes is stopped at the timeout.
printf 'sleep 600\n' > "$work/hang.sh"
guest hang 5 --script "$work/hang.sh" --no-adma --timeout 10 \
  && check "hang: the message says timeout" grep -q "timeout" "$work/hang.out"

# 6. Results larger than the region: refused by the guest, reported by the host.
printf 'dd if=/dev/urandom of=/results/big bs=1K count=200 2>/dev/null\n' > "$work/big.sh"
guest big 6 --script "$work/big.sh" --no-adma --results-size 64K \
  && check "big: the message says the results do not fit" grep -q "do not fit" "$work/big.out"

# 7. apple-dma-pci on the bus beside the managed NVMe, the DART spec's commas doubled for QEMU.
cat > "$work/adma.sh" <<'EOF'
for d in /sys/bus/pci/devices/*; do echo "$(cat $d/vendor):$(cat $d/device)"; done > /results/pci.txt
EOF
if guest adma 0 --script "$work/adma.sh" --adma interface=3,policy=window:256K --dart slots=64,aperture=4M; then
  check "adma: the guest sees apple-dma-pci (1b36:0015)" grep -qx '0x1b36:0x0015' "$work/adma/guest/pci.txt"
  check "adma: the guest sees the NVMe controller (1b36:0010)" grep -qx '0x1b36:0x0010' "$work/adma/guest/pci.txt"
  check "adma: the DART spec reached QEMU with doubled commas" grep -qF 'dart=slots=64,,aperture=4M' "$work/adma/qemu-command.txt"
fi

# 8. QEMU refusing the device's properties is QEMU failing, with its reason.
guest baddart 3 --script "$work/adma.sh" --dart slots=0 \
  && check "baddart: QEMU's reason is shown" grep -q 'apple-dma' "$work/baddart.out"

# 9. Bad usage stops before anything runs; a foreign results directory is never cleared.
guest badaccel 2 --script "$work/adma.sh" --accel warp \
  && check "bad usage names the flag" grep -q -- '--accel warp' "$work/badaccel.out"
mkdir -p "$work/foreign" && echo keep > "$work/foreign/mine.txt"
"$run_guest" --script "$work/adma.sh" --results "$work/foreign" >"$work/foreign.out" 2>&1
rc=$?
check "a non-empty results directory not ours is refused" [ "$rc" -eq 2 ]
check "a refused results directory keeps its files" [ "$(cat "$work/foreign/mine.txt")" = keep ]

check_summary
