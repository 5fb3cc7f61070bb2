# SPDX-License-Identifier: MIT
# Turns a dartlab text trace into the QEMU log of the apple-dma-pci device's trace events
# (traces/qemu_log/IMPORT.md), with the -msg timestamp=on stamp, one line per map or unmap (a
# scatter-gather segment is one map of its own), so that the importer's rate can be measured on
# any size of trace. Handles are the trace's ids written as hex digits (decimal digits are hex
# digits), a segment's "<id>f<index>". For benchmarks only: `make bench`.
# Usage: awk -f trace_to_qemu_log.awk game.trace > game.log
function dir(d) { return d == "to_dev" ? "to_device" : d == "from_dev" ? "from_device" : "bidirectional" }
function stamp() { us += 3; return sprintf("4242@%d.%06d:", 1700000000 + int(us / 1000000), us % 1000000) }
function map(dev, gpa, len, d, handle) {
  printf "%sapple_dma_map bdf=%s gpa=%s len=0x%x dir=%s dma=%s handle=0x%s status=0\n", stamp(), dev, gpa, len, d, gpa, handle
}
function unmap(dev, handle, len) { printf "%sapple_dma_unmap bdf=%s handle=0x%s len=0x%x status=0\n", stamp(), dev, handle, len }
/^#/ || /^dartlab-trace/ || NF == 0 { next }
{ if ($1 ~ /^@/) { $1 = ""; $0 = $0 } }
$1 == "map" || $1 == "alloc" {
  dev[$2] = $3; len[$2] = $5
  map($3, $4, $5, $1 == "alloc" ? "bidirectional" : dir($6), $2)
  next
}
$1 == "unmap" || $1 == "free" { unmap(dev[$2], $2, len[$2]); delete dev[$2]; delete len[$2]; next }
$1 == "map_sg" {
  n = 0
  for (i = 5; i <= NF; i++) {
    if ($i ~ /^align=/) continue
    split($i, seg, ":"); seglen[$2, n] = seg[2]
    map($3, seg[1], seg[2], dir($4), $2 "f" n); n++
  }
  dev[$2] = $3; segs[$2] = n
  next
}
$1 == "unmap_sg" {
  for (i = 0; i < segs[$2]; i++) { unmap(dev[$2], $2 "f" i, seglen[$2, i]); delete seglen[$2, i] }
  delete dev[$2]; delete segs[$2]
  next
}
