# SPDX-License-Identifier: MIT
# The whole path with real I/O: 256 MiB with O_DIRECT and 64 MiB buffered through the managed NVMe,
# read back after dropping the caches, every 4 KiB compared; the module's trace saved for the
# closed-loop replay; a DART fault provoked through the module's test hook; the module removed
# (the driver goes with it) and loaded again (the driver comes back, the data is still there).
#   IO_BUFFERED 1 (default): the 64 MiB buffered pass too; 0: O_DIRECT only
#   TOLERATE    1: blocks whose write fails are listed (direct-failed) and left out when read
#               back (the seed clustering against the RFC device may refuse a map: still open);
#               0 (default): every block must go through
#   LOAD_ORDER  module-first (default): apple_dma, then nvme;
#               driver-first: nvme first. Behind the DART its DMA reaches nothing: with a short
#               admin timeout it gives up and lets the device go. apple_dma's probe refuses the
#               device while nvme still holds it, and binds it once it is free.
: "${LOAD_ORDER:=module-first}" "${IO_BUFFERED:=1}" "${TOLERATE:=0}"
W="" V=""
[ "$TOLERATE" = 1 ] && W="--failed /results/direct-failed" V="--skip /results/direct-failed"
M=1048576
if [ "$LOAD_ORDER" = driver-first ]; then
  modprobe nvme_core admin_timeout=2
  load_nvme &   # modprobe waits for the probe, which waits for the controller: 2 s, then fails
  wait_bound 1
  # The module loads, but its probe refuses a device another driver holds: no debugfs, no ops.
  load_adma
  if [ -d "$DBG" ]; then event "probe_while_bound=took_it"; else event "probe_while_bound=refused"; fi
  rmmod apple_dma
  wait
  wait_bound 0
  load_adma
else
  load_adma
  load_nvme
fi
D=$(nvme_disk dartlab-data 20)
note "data disk $D"
snapshot start

check direct-write write "$D" --offset 0 --size $((256 * M)) --bs 1M --seed 1 --direct $W
[ "$IO_BUFFERED" = 1 ] && check buffered-write write "$D" --offset $((256 * M)) --size $((64 * M)) --bs 128K --seed 2
drop_caches
check direct-verify verify "$D" --offset 0 --size $((256 * M)) --bs 512K --seed 1 --direct $V
[ "$IO_BUFFERED" = 1 ] && check buffered-verify verify "$D" --offset $((256 * M)) --size $((64 * M)) --bs 1M --seed 2
snapshot io
save_traces

# The test hook: while it is on, streaming maps hand out addresses past their mapping.
echo 1 > /sys/module/apple_dma/parameters/fault_inject
check fault-sg canary "$D" --offset 0 --bs 64K
check fault-page canary "$D" --offset $((64 * 1024)) --bs 4K
echo 0 > /sys/module/apple_dma/parameters/fault_inject
snapshot fault
check after-fault verify "$D" --offset 0 --size $((16 * M)) --bs 1M --seed 1 --direct $V

# Removing the module takes the driver with it; loading it again brings both back.
snapshot before-rmmod
rmmod apple_dma
wait_bound 0 && event "after_rmmod=unbound"
load_adma
D=$(nvme_disk dartlab-data 20)
check after-reload verify "$D" --offset 0 --size $((32 * M)) --bs 1M --seed 1 --direct $V
snapshot end
note done
