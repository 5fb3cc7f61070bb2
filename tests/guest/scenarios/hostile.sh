# SPDX-License-Identifier: MIT
# A driver that misuses the DMA API on the managed device (tests/guest/hostile/adma_hostile.c:
# unknown and double unmaps, a wrong length, length 0, a zero-length segment, peer-to-peer MMIO,
# maps with interrupts off) while nvme keeps working: the module warns and counts, the guest
# stays up, and the disk's data still goes through intact.
M=1048576
load_adma
load_nvme
D=$(nvme_disk dartlab-data 20)
snapshot before
insmod "/lib/modules/$(uname -r)/extra/adma_hostile.ko"
dmesg | grep 'adma_hostile: ' | sed 's/^\[[^]]*\] //' > hostile.log
snapshot after
check io-write write "$D" --offset 0 --size $((16 * M)) --bs 256K --seed 4 --direct
check io-verify verify "$D" --offset 0 --size $((16 * M)) --bs 1M --seed 4 --direct
rmmod adma_hostile
note done
