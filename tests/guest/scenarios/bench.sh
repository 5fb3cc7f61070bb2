# SPDX-License-Identifier: MIT
# Sequential throughput of the managed NVMe (bench/guest_io.sh): O_DIRECT writes then reads of
# BENCH_MIB MiB in 1 MiB requests, with apple_dma (ADMA=1) or on a guest without apple-dma-pci.
: "${BENCH_MIB:=256}" "${ADMA:=1}"
M=1048576
[ "$ADMA" = 1 ] && load_adma
load_nvme
D=$(nvme_disk dartlab-data 20)
[ "$ADMA" = 1 ] && snapshot start
check bench-write write "$D" --offset 0 --size $((BENCH_MIB * M)) --bs 1M --seed 3 --direct --no-pattern
check bench-read read "$D" --offset 0 --size $((BENCH_MIB * M)) --bs 1M --direct
[ "$ADMA" = 1 ] && snapshot end
note done
