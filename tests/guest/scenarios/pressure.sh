# SPDX-License-Identifier: MIT
# A host too small for the I/O asked of it: data written before stays intact, the burst that does
# not fit sees I/O errors (or, with refusal=retry, waits and succeeds), the guest stays up, and I/O
# succeeds again once the burst is over.
# nvme sgl_threshold=0 keeps every request above 8 KiB on the scatterlist path (dma_map_sg), so
# that a refusal is an error the driver reports, never a map_page refusal it requeues.
K=1024
M=1048576
load_adma
load_nvme
D=$(nvme_disk dartlab-data 20)
check before-write write "$D" --offset 0 --size $((256 * K)) --bs 4K --seed 5 --direct
check before-verify verify "$D" --offset 0 --size $((256 * K)) --bs 4K --seed 5 --direct
snapshot before
# One 64 MiB O_DIRECT write: the block layer cuts it into 512 KiB requests, all in flight at once.
check burst write "$D" --offset $((64 * M)) --size $((64 * M)) --bs $((64 * M)) --seed 6 --direct
snapshot burst
check intact verify "$D" --offset 0 --size $((256 * K)) --bs 4K --seed 5 --direct
check after-write write "$D" --offset $((4 * M)) --size $((512 * K)) --bs 4K --seed 7 --direct
check after-verify verify "$D" --offset $((4 * M)) --size $((512 * K)) --bs 4K --seed 7 --direct
snapshot after
save_traces
note done
