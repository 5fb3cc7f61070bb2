#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke scenario for the guest image (scripts/run-guest.sh --script tests/guest/smoke.sh): the
# plain NVMe path, without apple_dma. Loads nvme, finds the data disk by its serial, writes
# 64 MiB of random data with O_DIRECT, reads it back with O_DIRECT and compares checksums.
# Writes /results/smoke.txt (key=value: sizes, checksums, durations, MiB/s); exits non-zero on
# any mismatch.
set -eu
. /lib/dartlab/guest-lib.sh
mib=64

t0=$(now_s)
modprobe nvme
disk=$(nvme_disk dartlab-data 20)
t1=$(now_s)
echo "smoke: data disk $disk after $(elapsed_s "$t0" "$t1") s"

dd if=/dev/urandom of=/tmp/data bs=1M count=$mib status=none
want=$(md5sum < /tmp/data | cut -d' ' -f1)
t2=$(now_s)   # t1..t2: making the data and its checksum, in RAM
dd if=/tmp/data of="$disk" bs=1M count=$mib oflag=direct conv=fsync status=none
t3=$(now_s)
got=$(dd if="$disk" bs=1M count=$mib iflag=direct status=none | md5sum | cut -d' ' -f1)
t4=$(now_s)

{
  echo "disk=$disk"
  echo "mib=$mib"
  echo "written_md5=$want"
  echo "read_md5=$got"
  echo "probe_s=$(elapsed_s "$t0" "$t1")"
  echo "generate_and_sum_s=$(elapsed_s "$t1" "$t2")"
  echo "write_s=$(elapsed_s "$t2" "$t3")"
  echo "read_and_sum_s=$(elapsed_s "$t3" "$t4")"
} > /results/smoke.txt
cat /results/smoke.txt
if [ "$want" != "$got" ]; then
  echo "smoke: MISMATCH: wrote $want, read back $got" >&2
  exit 1
fi
echo "smoke: $mib MiB written and read back intact"
