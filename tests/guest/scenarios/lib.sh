# SPDX-License-Identifier: MIT
# Shared by dartlab's end-to-end guest scenarios (tests/guest/e2e_test.cpp writes a wrapper that sets
# the variables below and sources lib.sh and one scenario). Busybox sh, run in /results.
#   ADMA_PARAMS  apple_dma module parameters ("interface=3", "interface=2 window_shift=18", ...)
#   NVME_PARAMS  nvme module parameters
set -eu
. /lib/dartlab/guest-lib.sh  # nvme_disk SERIAL [SECONDS]: the image's disk finder
DBG=/sys/kernel/debug/apple_dma
# The kernel's log at the end, whatever happens (the console is quiet: warnings go only here).
trap 'dmesg > /results/dmesg.txt' EXIT
ADMA_KO=/lib/modules/$(uname -r)/extra/apple_dma.ko
: "${ADMA_PARAMS:=}" "${NVME_PARAMS:=}"

note() { echo "scenario: $*"; }

load_adma() { insmod "$ADMA_KO" $ADMA_PARAMS; }

# The managed NVMe's PCI address (QEMU's NVMe, 1b36:0010; the guest has one).
managed_pci() {
  for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0010 ]; then
      echo "${d##*/}"
      return 0
    fi
  done
  return 1
}

# Waits until the managed device has a driver ($1 = 1) or none ($1 = 0), 30 s at most.
wait_bound() {
  tries=0
  while [ $tries -lt 600 ]; do
    if [ -e "/sys/bus/pci/devices/$(managed_pci)/driver" ]; then [ "$1" = 1 ] && return 0
    else [ "$1" = 0 ] && return 0
    fi
    tries=$((tries + 1))
    sleep 0.05
  done
  echo "scenario: the managed device never became bound=$1" >&2
  return 1
}

# Records what happened as NAME=VALUE in events (the host reads it).
event() { echo "$1" | tee -a events; }
load_nvme() { modprobe nvme $NVME_PARAMS; }

# Saves the module's and the device's counters as NAME.stats and NAME.device.
snapshot() {
  cat "$DBG/stats" > "$1.stats"
  cat "$DBG/device" > "$1.device"
}

# dmacheck with its result line kept in dmacheck.log (tagged with $1); never stops the scenario:
# the host judges the lines.
check() {
  tag=$1
  shift
  line=$(dmacheck "$@" 2>&1) || true
  echo "$tag $line" | tee -a dmacheck.log
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

save_traces() {
  cat "$DBG/trace" > trace.csv
  cat "$DBG/trace.dartlab" > trace.dartlab
}
