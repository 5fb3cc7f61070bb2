# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# Helpers for scenario scripts, in the guest as /lib/dartlab/guest-lib.sh (scripts/build-guest.sh):
#   . /lib/dartlab/guest-lib.sh
# Busybox sh.

# nvme_disk SERIAL [SECONDS]: prints /dev/nvmeXnY, the namespace whose NVMe controller has serial
# SERIAL (scripts/run-guest.sh: dartlab-data is the managed disk), waiting up to SECONDS
# (default 10) for the driver's asynchronous probe. Disks are picked by serial, never by probe
# order. The serial is read through the block device's parent (a controller, or with NVMe
# multipath the subsystem: both have a space-padded `serial`); the multipath layer's hidden
# per-controller paths (nvmeXcYnZ) are skipped.
nvme_disk() {
  _want=$1
  _tenths=$(( ${2:-10} * 10 ))
  while [ "$_tenths" -gt 0 ]; do
    for _b in /sys/block/nvme*; do
      _name=${_b##*/}
      case "$_name" in *c*) continue ;; esac
      [ -r "$_b/device/serial" ] && [ -b "/dev/$_name" ] || continue
      read -r _serial < "$_b/device/serial"
      if [ "$_serial" = "$_want" ]; then
        echo "/dev/$_name"
        return 0
      fi
    done
    sleep 0.1
    _tenths=$((_tenths - 1))
  done
  echo "nvme_disk: no NVMe namespace whose controller serial is '$_want'" >&2
  return 1
}

# now_s: seconds since the kernel started (for durations inside a scenario).
now_s() { cut -d' ' -f1 /proc/uptime; }

# elapsed_s START END: END - START, two decimals.
elapsed_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
