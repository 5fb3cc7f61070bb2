# SPDX-License-Identifier: MIT
# Turns a dartlab text trace into the Linux ftrace trace-file form of the dma:* events (6.12
# formats, traces/ftrace/IMPORT.md), one line per event, DMA address = GPA (no IOMMU), so that the
# importer's rate can be measured on any size of trace. For benchmarks only: `make bench`.
# Usage: awk -f trace_to_ftrace.awk game.trace > game.ftrace
function dir(d) { return d == "to_dev" ? "TO_DEVICE" : d == "from_dev" ? "FROM_DEVICE" : "BIDIRECTIONAL" }
function hex(a) { return substr(a, 3) }  # the kernel prints %llx without 0x
function context() { t += 0.000001; return sprintf("        gamebin-4242    [%03d] ...1. %12.6f: ", NR % 2, 1000 + t) }
BEGIN { print "# tracer: nop"; print "#" }
/^#/ || /^dartlab-trace/ || NF == 0 { next }
{ if ($1 ~ /^@/) { $1 = ""; $0 = $0 } }
$1 == "map" {
  dev[$2] = $3; addr[$2] = hex($4); len[$2] = $5; d[$2] = dir($6)
  print context() "dma_map_page: " $3 " dir=" d[$2] " dma_addr=" addr[$2] " size=" $5 " phys_addr=" addr[$2] " attrs="
  next
}
$1 == "unmap" {
  print context() "dma_unmap_page: " dev[$2] " dir=" d[$2] " dma_addr=" addr[$2] " size=" len[$2] " attrs="
  delete dev[$2]; delete addr[$2]; delete len[$2]; delete d[$2]
  next
}
$1 == "alloc" {
  dev[$2] = $3; addr[$2] = hex($4); len[$2] = $5
  print context() "dma_alloc: " $3 " dma_addr=" addr[$2] " size=" $5 " virt_addr=ffff0000" addr[$2] " flags=GFP_KERNEL attrs="
  next
}
$1 == "free" {
  print context() "dma_free: " dev[$2] " dma_addr=" addr[$2] " size=" len[$2] " virt_addr=ffff0000" addr[$2] " attrs="
  delete dev[$2]; delete addr[$2]; delete len[$2]
  next
}
$1 == "map_sg" {
  a = ""; s = ""
  for (i = 5; i <= NF; i++) {
    if ($i ~ /^align=/) continue
    split($i, seg, ":"); a = a (a == "" ? "" : ",") seg[1]; s = s (s == "" ? "" : ",") sprintf("0x%x", seg[2])
  }
  dev[$2] = $3; d[$2] = dir($4); phys[$2] = a
  print context() "dma_map_sg: " $3 " dir=" d[$2] " dma_addrs={" a "} sizes={" s "} phys_addrs={" a "} attrs="
  next
}
$1 == "unmap_sg" {
  print context() "dma_unmap_sg: " dev[$2] " dir=" d[$2] " phys_addrs={" phys[$2] "} attrs="
  delete dev[$2]; delete d[$2]; delete phys[$2]
  next
}
