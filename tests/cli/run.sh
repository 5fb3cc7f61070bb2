#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end tests of the dartlab command line: exit codes, error messages, output files.
# Usage: run.sh DARTLAB_BINARY SOURCE_DIR
set -uo pipefail
dartlab=$1
src=$2
source "$src/tests/cli/expect.sh"  # expect, $work, $passed, $failed

cat >"$work/ok.trace" <<'T'
dartlab-trace v1
# two pages in one 256 KiB window, a straddling request, a scatter-gather list
map 1 0000:01:00.0 0x40001000 4096 to_dev
map 2 0000:01:00.0 0x40005000 4096 from_dev
map 3 0000:01:00.0 0x4003f000 8192 bidi
map_sg 4 0000:01:00.0 to_dev 0x40100000:64K 0x40200000:16K
access 4 0x40100000 65536 to_dev
alloc 5 0000:01:00.0 0x40400000 2M
unmap 1
unmap 2
unmap 3
unmap_sg 4
free 5
T

# --help on each command
expect "top-level help" 0 "replay" -- "$dartlab" --help
expect "replay help lists policies" 0 "window:S" -- "$dartlab" replay --help
expect "replay help lists dart keys" 0 "aperture=SIZE" -- "$dartlab" replay --help
expect "gen help lists profiles" 0 "game" -- "$dartlab" gen --help
expect "no subcommand is a usage error" 1 "subcommand" -- "$dartlab"

# A good trace: table, JSON fields exactly as documented
expect "replay prints a table" 0 "window:256K +5 " -- "$dartlab" replay "$work/ok.trace" -p direct -p window:256K
"$dartlab" replay "$work/ok.trace" -p direct -p window:256K --json "$work/out.json" -q
for field in trace policy dart events requests peak_mappings peak_mapped_bytes peak_requested_bytes \
             host_map_calls host_unmap_calls failed_maps failures_by_reason first_failure; do
  expect "json has $field" 0 "\"$field\":" -- cat "$work/out.json"
done
expect "json counts events" 0 '"events": 11,' -- cat "$work/out.json"
expect "json counts requests (sg segments each)" 0 '"requests": 6,' -- cat "$work/out.json"
expect "json: window:256K peak mappings" 0 '"policy": "window:256K"' -- cat "$work/out.json"
expect "json: no access faults" 0 '"access_faults": 0,' -- cat "$work/out.json"
expect "json: no failure is null" 0 '"first_failure": null' -- cat "$work/out.json"
expect "json to stdout" 0 '"results": \[' -- "$dartlab" replay "$work/ok.trace" --json -
expect "csv to stdout" 0 '^trace,policy,dart,events' -- "$dartlab" replay "$work/ok.trace" --csv -

# Refusals by the DART are results, not errors
expect "slot limit gives counted failures" 0 '"slots": 3' -- \
  "$dartlab" replay "$work/ok.trace" -p direct --dart slots=2 --json -
expect "first failure names event and reason" 0 '"reason": "slots"' -- \
  "$dartlab" replay "$work/ok.trace" -p direct --dart slots=2 --json -
expect "tiny aperture: aperture failures" 0 '"aperture": [1-9]' -- \
  "$dartlab" replay "$work/ok.trace" -p window:1M --dart aperture=1M --json -

# Aperture allocators: a run of the whole (unaligned) aperture fits first-fit, not linux's size alignment
printf 'dartlab-trace v1\nmap 1 0000:01:00.0 0x40000000 128K to_dev\nunmap 1\n' >"$work/whole.trace"
expect "replay help lists the allocators" 0 "alloc=first-fit[|]best-fit[|]buddy[|]linux" -- "$dartlab" replay --help
expect "linux: size-aligned run of the whole aperture is fragmented" 0 '"fragmented": 1' -- \
  "$dartlab" replay "$work/whole.trace" -p direct --dart aperture=128K,alloc=linux --json -
expect "linux: the spec is echoed" 0 '"dart": "aperture=128K,.*alloc=linux' -- \
  "$dartlab" replay "$work/whole.trace" -p direct --dart aperture=128K,alloc=linux --json -
expect "first-fit: the whole aperture fits" 0 '"fragmented": 0' -- \
  "$dartlab" replay "$work/whole.trace" -p direct --dart aperture=128K,alloc=first-fit --json -
expect "buddy: the whole unaligned aperture is no block" 0 '"fragmented": 1' -- \
  "$dartlab" replay "$work/whole.trace" -p direct --dart aperture=128K,alloc=buddy --json -
"$dartlab" gen uvm -n 20000 -s 3 -o "$work/uvm.dlt" >/dev/null 2>&1
expect "linux: UVM's align=2M requests get 2 MiB-aligned DMA addresses" 0 '"alignment_violations": 0' -- \
  "$dartlab" replay "$work/uvm.dlt" -p direct --dart alloc=linux --json -
expect "first-fit: UVM's align=2M requests do not" 0 '"alignment_violations": [1-9]' -- \
  "$dartlab" replay "$work/uvm.dlt" -p direct --dart alloc=first-fit --json -
expect "unknown allocator lists the known ones" 1 "first-fit, best-fit, buddy or linux" -- \
  "$dartlab" replay "$work/whole.trace" --dart alloc=worst-fit

# The host service's rules: a second map at a registered gpa refused as still open, a region
# longer than a chunk answered cut and refused as truncated; each named by the host's code too
cat >"$work/host.trace" <<'T'
dartlab-trace v1
map 1 0000:01:00.0 0x40001000 4096 to_dev
map 2 0000:01:00.0 0x40000000 512K to_dev
map 3 0000:01:00.0 0x41000000 2M to_dev
unmap 1
unmap 2
unmap 3
T
expect "replay help lists the host's rules" 0 "duplicate=share[|]refuse" -- "$dartlab" replay --help
expect "replay help lists the chunk" 0 "chunk=SIZE[|]unlimited" -- "$dartlab" replay --help
expect "duplicate=refuse: a range at a live window's gpa is refused" 0 '"duplicate": 1,' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart duplicate=refuse --json -
expect "duplicate=refuse: counted under the host's code" 0 '"kIOReturnStillOpen": 1' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart duplicate=refuse --json -
expect "duplicate=refuse: the first failure names the host's code" 0 '"host_code": "kIOReturnStillOpen"' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart duplicate=refuse --json -
expect "duplicate=refuse: the table names it" 0 'duplicate at event 2 [(]kIOReturnStillOpen[)]' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart duplicate=refuse
expect "duplicate=share, the default, maps it again" 0 '"failed_maps": 0,' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --json -
expect "chunk=1M: the 2 MiB range comes back cut and is refused" 0 '"truncated": 1' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart chunk=1M --json -
expect "chunk=1M: a cut range is a host map (and unmap) all the same" 0 '"host_map_calls": 3,' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart chunk=1M --json -
expect "chunk=1M: ...undone at once, so nothing is left" 0 '"host_unmap_calls": 3,' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --dart chunk=1M --json -
expect "the CSV has the host's codes" 0 'failures_by_reason_truncated,failures_by_host_code_kIOReturnBadArgument' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --csv -
expect "the spec echoes the host's rules" 0 '"dart": ".*,chunk=1M,duplicate=refuse"' -- \
  "$dartlab" replay "$work/host.trace" --dart duplicate=refuse,chunk=1M --json -
expect "an unknown duplicate rule names both" 1 "duplicate=maybe: refuse .* or share" -- \
  "$dartlab" replay "$work/host.trace" --dart duplicate=maybe
expect "a chunk must be whole pages" 1 "chunk=24K: not a whole number of 16K pages" -- \
  "$dartlab" replay "$work/host.trace" --dart chunk=24K
expect "the timed replay knows the host's rules" 0 '"failed_maps": 1,' -- \
  "$dartlab" replay "$work/host.trace" -p window:256K --timed --dart t8110,duplicate=refuse --json -
printf 'traces = ["host.trace"]\npolicies = ["window:256K"]\ndarts = ["duplicate={rule}"]\n[params]\nrule = ["share", "refuse"]\n' \
  >"$work/host.toml"
expect "a sweep varies the host's rules" 0 'duplicate=refuse' -- "$dartlab" sweep "$work/host.toml" --list

# Bad flags: exit 1 with the reason
expect "window size not a power of two" 1 "not a power of two" -- "$dartlab" replay "$work/ok.trace" -p window:100K
expect "unknown policy" 1 "unknown policy 'lru'" -- "$dartlab" replay "$work/ok.trace" -p lru
expect "replay help explains multi" 0 "promote=F" -- "$dartlab" replay --help
expect "replay help explains lazy" 0 "keep=N" -- "$dartlab" replay --help
expect "replay help explains adaptive" 0 "high=F" -- "$dartlab" replay --help
expect "multi, lazy and adaptive replay" 0 "lazy:multi:64K,1M,keep=16 " -- \
  "$dartlab" replay "$work/ok.trace" -p multi:64K,256K,1M -p lazy:multi:64K,1M,keep=16 -p adaptive
expect "json carries the new metrics" 0 '"exposure_peak_bytes": [0-9]' -- "$dartlab" replay "$work/ok.trace" -p lazy:direct,keep=4 --json -
expect "json carries a series" 0 '"series": [{]' -- "$dartlab" replay "$work/ok.trace" -p direct --json -
expect "lazy without a bound" 1 "lazy needs a bound" -- "$dartlab" replay "$work/ok.trace" -p lazy:window:256K
expect "multi with a bad fraction" 1 "promote '2x' is not a fraction" -- "$dartlab" replay "$work/ok.trace" -p multi:64K,promote=2x
expect "replay help explains bounce" 0 "bounce\[:SIZE\]\[,at=GPA\]" -- "$dartlab" replay --help
expect "replay help explains cap" 0 "cap:POLICY,windows=N" -- "$dartlab" replay --help
expect "bounce and cap replay" 0 "cap:window:64K,windows=1 " -- \
  "$dartlab" replay "$work/ok.trace" -p bounce -p bounce:1M,at=0x100000000 -p cap:window:64K,windows=1
expect "json carries the waits" 0 '"waits": [{]' -- "$dartlab" replay "$work/ok.trace" -p cap:direct,windows=2 --json -
expect "bounce with a bad pool" 1 "multiple of 16K" -- "$dartlab" replay "$work/ok.trace" -p bounce:100K
expect "cap without a limit" 1 "cap needs a policy and its limit" -- "$dartlab" replay "$work/ok.trace" -p cap:window:64K
expect "timed replay refuses cap" 1 "does not replay cap policies" -- \
  "$dartlab" replay "$work/ok.trace" --timed -p cap:window:64K,windows=4
expect "bad dart spec" 1 "--dart 'slots=lots'" -- "$dartlab" replay "$work/ok.trace" --dart slots=lots
expect "unwritable json path" 1 "cannot write .*x.json: No such file" -- "$dartlab" replay "$work/ok.trace" --json "$work/no/such/dir/x.json"
test ! -e "$work/no/such/dir/x.json.tmp" && passed=$((passed + 1)) || { echo "FAIL: temp file left"; failed=$((failed + 1)); }

# Special files are written in place, never renamed over (and a full device is an error)
if [ -c /dev/full ]; then
  expect "gen to a full device fails" 1 "No space left" -- "$dartlab" gen game -n 1000 -o /dev/full
  expect "json to a full device fails" 1 "No space left" -- "$dartlab" replay "$work/ok.trace" --json /dev/full
  if [ -c /dev/full ]; then passed=$((passed + 1)); else echo "FAIL: /dev/full was replaced"; failed=$((failed + 1)); fi
fi
expect "json to a FIFO is written in place" 0 '"results"' -- sh -c "mkfifo \"$work/fifo\" && (cat \"$work/fifo\" &) && \"$dartlab\" replay \"$work/ok.trace\" --json \"$work/fifo\" -q; sleep 0.2"

# Bad traces: exit 2, message names file and line
printf 'dartlab-trace v1\nmap 1 0000:01:00.0 0x1000 4Q to_dev\n' >"$work/bad-len.trace"
expect "parse error names file:line:col" 2 "bad-len.trace:2:[0-9]+: error: .*4Q" -- "$dartlab" replay "$work/bad-len.trace"
printf 'dartlab-trace v1\nunmap 9\n' >"$work/never.trace"
expect "unmap of a never-mapped id" 2 "never.trace:2: error: unmap of id 9 which was never mapped" -- \
  "$dartlab" replay "$work/never.trace"
expect "lenient: a counted warning" 0 "1 warnings" -- "$dartlab" replay "$work/never.trace" --lenient
printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev\nunmap 1\nunmap 1\n' >"$work/double.trace"
expect "double unmap" 2 "double.trace:4: error: double unmap: id 1" -- "$dartlab" replay "$work/double.trace"
printf 'dartlab-trace v1\nmap 1 d 0x4000 0 to_dev\n' >"$work/zero.trace"
expect "zero length" 2 "zero.trace:2:[0-9]+: error: .*length" -- "$dartlab" replay "$work/zero.trace"
printf 'dartlab-trace v1\nmap 1 d 0xfffffffffffff000 0x2000 to_dev\n' >"$work/overflow.trace"
expect "address overflow" 2 "overflow.trace:2:[0-9]+: error: .*(overflow|past 2\^64)" -- "$dartlab" replay "$work/overflow.trace"
printf 'dartlab-trace v1\nmap 18446744073709551615 d 0x4000 4096 to_dev\n' >"$work/reserved.trace"
expect "the all-ones id is reserved" 2 "reserved.trace:2: error: id 18446744073709551615 is reserved" -- \
  "$dartlab" replay "$work/reserved.trace"
expect "a trace on standard input" 0 '"events": 11,' -- sh -c "\"$dartlab\" replay - --json - <\"$work/ok.trace\""
printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev\nmap 2 d 0x8000 4096 to_dev\nunmap 1\nunmap 2\nbogus line\n' >"$work/late-error.trace"
expect "an error after good events names its line" 2 "late-error.trace:6:1: error: unknown event 'bogus'" -- \
  "$dartlab" replay "$work/late-error.trace"
expect "missing file is a usage error (exit 1)" 1 "dartlab replay: .*nope.trace: cannot open: No such file" -- "$dartlab" replay "$work/nope.trace"
printf 'map 1 d 0x4000 4096 to_dev\n' >"$work/noheader.trace"
expect "missing header" 2 "noheader.trace:1" -- "$dartlab" replay "$work/noheader.trace"

# gen: deterministic per seed, replayable
"$dartlab" gen game -n 20000 -s 5 >"$work/a.trace" && "$dartlab" gen game -n 20000 -s 5 >"$work/b.trace"
expect "gen is deterministic per seed" 0 "" -- cmp "$work/a.trace" "$work/b.trace"
expect "generated trace replays" 0 '"events": 20000' -- "$dartlab" replay "$work/a.trace" --json -
expect "gen: unknown profile" 1 "unknown profile" -- "$dartlab" gen nosuch -n 10

# stats: counts, peaks, clustering; JSON fields
expect "stats help" 0 "Clustering potential" -- "$dartlab" stats --help
expect "stats prints a table" 0 "peak live +5 requests \\(6 ranges\\)" -- "$dartlab" stats "$work/ok.trace"
expect "stats: clustering table" 0 "256K +[0-9]+ +[0-9]+ +[0-9]+" -- "$dartlab" stats "$work/ok.trace"
"$dartlab" stats "$work/ok.trace" --json "$work/stats.json" -q
for field in events events_by_kind ranges_by_size_class size_histogram_log2 peak_live_requests peak_live_bytes \
             clustering peak_live_mappings unknown_releases; do
  expect "stats json has $field" 0 "\"$field\":" -- cat "$work/stats.json"
done
expect "stats json: 6 ranges" 0 '"ranges": 6,' -- cat "$work/stats.json"
expect "stats counts, does not stop at, an unknown unmap" 0 '"unknown_releases": 1' -- "$dartlab" stats "$work/never.trace" --json -
expect "stats: parse errors still stop" 2 "bad-len.trace:2:[0-9]+: error" -- "$dartlab" stats "$work/bad-len.trace"

# --device: one device kept, others counted
printf 'dartlab-trace v1\nmap 1 gpu 0x4000 4096 to_dev\nmap 2 hda 0x8000 4096 to_dev\nunmap 2\nunmap 1\n' >"$work/two.trace"
expect "replay --device keeps one device" 0 '"events": 2,' -- "$dartlab" replay "$work/two.trace" --device gpu --json -
expect "replay --device counts the others" 0 '"what": "event of another device than gpu"' -- \
  "$dartlab" replay "$work/two.trace" --device gpu --json -
expect "a device that is not there is an error naming the devices there" 2 "no event of device 0000:09:00.0 \\(the trace has: gpu, hda\\)" -- \
  "$dartlab" stats "$work/two.trace" --device 0000:09:00.0
expect "unknown --format" 1 "format" -- "$dartlab" replay "$work/two.trace" --format xml

# convert: atomic, lossless, errors leave nothing behind
expect "convert text to text" 0 "4 events from text \\(2 devices\\)" -- "$dartlab" convert "$work/two.trace" "$work/two-copy.trace"
expect "converted trace replays the same" 0 '"events": 4,' -- "$dartlab" replay "$work/two-copy.trace" --json -
expect "convert of a bad trace fails with its line" 2 "bad-len.trace:2:[0-9]+: error" -- \
  "$dartlab" convert "$work/bad-len.trace" "$work/bad-out.trace"
test ! -e "$work/bad-out.trace" && test ! -e "$work/bad-out.trace.tmp" && passed=$((passed + 1)) ||
  { echo "FAIL: convert left output behind after an error"; failed=$((failed + 1)); }
echo "keep me" >"$work/keep.trace"
"$dartlab" convert "$work/bad-len.trace" "$work/keep.trace" 2>/dev/null
expect "a failed convert leaves an existing output as it was" 0 "^keep me$" -- cat "$work/keep.trace"

# Binary traces: text -> binary -> text is lossless, with and without zstd; the formats are sniffed
"$dartlab" gen game -n 20000 -s 3 -o "$work/g.trace"
expect "convert to binary by extension" 0 "20000 events from text" -- "$dartlab" convert "$work/g.trace" "$work/g.dlt"
expect "convert to zstd binary" 0 "20000 events from text" -- "$dartlab" convert "$work/g.trace" "$work/gz.bin" --zstd
expect "binary back to text" 0 "20000 events from binary" -- "$dartlab" convert "$work/g.dlt" "$work/g2.trace"
expect "zstd binary back to text" 0 "20000 events from binary" -- "$dartlab" convert "$work/gz.bin" "$work/g3.trace" --to text
expect "text -> binary -> text is lossless" 0 "" -- cmp <(grep -v '^#' "$work/g.trace") <(grep -v '^#' "$work/g2.trace")
expect "text -> zstd binary -> text is lossless" 0 "" -- cmp <(grep -v '^#' "$work/g.trace") <(grep -v '^#' "$work/g3.trace")
expect "binary is smaller than text" 0 "" -- test "$(stat -c %s "$work/g.dlt")" -lt "$(stat -c %s "$work/g.trace")"
expect "replay reads binary" 0 '"format": "binary"' -- "$dartlab" replay "$work/gz.bin" --json -
expect "gen writes binary" 0 '"events": 20000' -- sh -c "\"$dartlab\" gen game -n 20000 -s 3 -o \"$work/gen.dlt\" && \"$dartlab\" stats \"$work/gen.dlt\" --json -"
expect "no binary to a terminal" 1 "not writing a binary trace to a terminal" -- \
  sh -c "script -qec '\"$dartlab\" convert \"$work/g.trace\" - --to binary' /dev/null"
head -c 3000 "$work/g.dlt" >"$work/cut.dlt"
expect "a truncated binary trace names a byte offset" 2 "cut.dlt: byte [0-9]+: error: .*truncated" -- "$dartlab" replay "$work/cut.dlt"
printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev align=2M\nunmap 1\n' >"$work/align.trace"
"$dartlab" convert -q "$work/align.trace" "$work/align.dlt" && "$dartlab" convert -q "$work/align.dlt" "$work/align2.trace"
expect "align= survives a binary round trip" 0 "align=2097152" -- cat "$work/align2.trace"

# ftrace import: the game as Linux dma:* lines replays exactly as the game
awk -f "$src/bench/trace_to_ftrace.awk" "$work/g.trace" >"$work/g.ftrace"
"$dartlab" replay "$work/g.trace" -p direct -p window:256K -q --json "$work/g-text.json"
"$dartlab" replay "$work/g.ftrace" -p direct -p window:256K -q --json "$work/g-ftrace.json"
expect "ftrace import replays like the text trace" 0 "" -- \
  cmp <(grep -E '"(peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-text.json") \
      <(grep -E '"(peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-ftrace.json")
expect "ftrace import is sniffed" 0 '"format": "ftrace"' -- cat "$work/g-ftrace.json"
expect "ftrace import counts allocs without a physical address" 0 "dma_alloc without a physical address" -- \
  "$dartlab" stats "$work/g.ftrace"
expect "convert imports ftrace" 0 "events from ftrace" -- "$dartlab" convert "$work/g.ftrace" "$work/g-import.dlt"
printf '# tracer: nop\n  x-1 [000] ...1. 1.000001: dma_map_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=zz size=4096 phys_addr=1000 attrs=\n' >"$work/bad.ftrace"
expect "a malformed ftrace event names its line" 2 "bad.ftrace:2:[0-9]+: error" -- "$dartlab" replay "$work/bad.ftrace"
expect "garbage lines are counted, not fatal" 0 "not an ftrace" -- sh -c "printf 'hello\n' >>\"$work/g.ftrace\"; \"$dartlab\" stats \"$work/g.ftrace\""
for sample in "$src"/traces/samples/ftrace-*.txt; do
  expect "sample $(basename "$sample") replays" 0 '"format": "ftrace"' -- "$dartlab" replay "$sample" --json -
done

# QEMU log import: the apple-dma-pci device's trace events, converted, or replayed directly
awk -f "$src/bench/trace_to_qemu_log.awk" "$work/g.trace" >"$work/g.qemu.log"
"$dartlab" replay "$work/g.qemu.log" -p direct -p window:256K -q --json "$work/g-qemu.json"
expect "the game as a QEMU log replays exactly as the game" 0 "" -- \
  diff <(grep -E '"(peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-text.json") \
       <(grep -E '"(peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-qemu.json")
qlog="$src/traces/samples/qemu-apple-dma.log"
expect "convert imports a QEMU log" 0 "events from qemu-log" -- "$dartlab" convert "$qlog" "$work/qemu.trace"
expect "the converted QEMU log replays" 0 '"failed_maps": 0' -- "$dartlab" replay "$work/qemu.trace" -p direct --json -
expect "the converted QEMU log is a text trace" 0 "^dartlab-trace v1" -- head -1 "$work/qemu.trace"
"$dartlab" replay "$qlog" -p direct -p window:256K -q --json "$work/qemu-direct.json"
"$dartlab" replay "$work/qemu.trace" -p direct -p window:256K -q --json "$work/qemu-converted.json"
expect "a QEMU log replays directly as its conversion does" 0 "" -- \
  diff <(grep -E '"(events|peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/qemu-direct.json") \
       <(grep -E '"(events|peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/qemu-converted.json")
expect "a QEMU log is sniffed" 0 '"format": "qemu-log"' -- cat "$work/qemu-direct.json"
expect "a QEMU log's failed maps are counted" 0 "failed apple_dma_map" -- "$dartlab" stats "$qlog"
expect "a QEMU log without stamps replays" 0 '"format": "qemu-log"' -- \
  "$dartlab" replay "$src/traces/samples/qemu-apple-dma-stderr.log" --json -
expect "--device keeps one function of the device" 0 "event of another device than 0000:01:00.1" -- \
  "$dartlab" stats "$qlog" --device 0000:01:00.1
expect "a QEMU log read from stdin" 0 '"format": "qemu-log"' -- sh -c "\"$dartlab\" replay - --json - <\"$qlog\""
printf 'qemu-system-aarch64: info\napple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0xqq dir=to_device dma=0x0 handle=0x1 status=0\napple_dma_map bdf=0000:01:00.0 gpa=0x1000 len=0x1000 dir=to_device dma=0x0 handle=0x1 status=0\n' >"$work/bad-qemu.log"
expect "a malformed apple_dma_map names its line and column" 2 "bad-qemu.log:2:47: error: apple_dma_map: len must be a hex number" -- \
  "$dartlab" replay "$work/bad-qemu.log"
expect "--lenient skips it" 0 "bad-qemu.log:2:47: warning" -- "$dartlab" replay "$work/bad-qemu.log" --lenient
expect "--format qemu-log is accepted" 0 '"format": "qemu-log"' -- "$dartlab" replay "$qlog" --format qemu-log --json -
expect "--format lists qemu-log" 0 "qemu-log" -- "$dartlab" convert --help

# The real seed system's own recordings: the apple_dma module's debugfs CSV, the real device's QEMU log
csv="$src/traces/samples/apple-dma-debugfs.csv"
wrapped="$src/traces/samples/apple-dma-debugfs-wrapped.csv"
real_log="$src/traces/samples/qemu-apple-dma-real.log"
expect "an apple_dma CSV is sniffed and replays" 0 '"format": "apple-dma-csv"' -- "$dartlab" replay "$csv" -p direct --json -
expect "--format apple-dma-csv is accepted" 0 '"format": "apple-dma-csv"' -- "$dartlab" replay "$csv" --format apple-dma-csv --json -
expect "a CSV's rolled-back map_sg is noted" 0 "map_sg rolled back" -- "$dartlab" stats "$csv"
expect "a wrapped ring says what was live before it" 0 "requests live before the first row" -- "$dartlab" stats "$wrapped"
peak_col=$(awk -F, 'NR > 1 && $5 > m { m = $5 } END { print m }' "$wrapped")
expect "stats shows the recording's own peak beside dartlab's" 0 "recording's own +$peak_col requests" -- "$dartlab" stats "$wrapped"
expect "stats json has the recording's own peaks" 0 "\"recorded_peaks\": \\{" -- "$dartlab" stats "$wrapped" --json -
expect "--device names the CSV's device" 0 '"devices":\["0000:65:00.0"\]' -- sh -c "\"$dartlab\" stats \"$csv\" --device 0000:65:00.0 --json - | tr -d ' \n'"
expect "a real device's QEMU log replays at the guest level" 0 "read at --level guest" -- "$dartlab" stats "$real_log"
registered=$(grep -c 'apple_dext_register_dma.*kr=0x0$' "$real_log")
peak_registered=$(awk '/apple_dext_register_dma.*kr=0x0$/ { n++ } /apple_dext_unregister_dma.*kr=0x0$/ { n-- } n > m { m = n } END { print m }' "$real_log")
"$dartlab" replay "$real_log" -p direct --json "$work/real-guest.json" -q
"$dartlab" replay "$real_log" -p direct --level host --json "$work/real-host.json" -q
expect "guest-level entries under direct make exactly the host's registrations" 0 "\"host_map_calls\": $registered," -- cat "$work/real-guest.json"
expect "... and peak at the host's own peak of live registrations" 0 "\"peak_mappings\": $peak_registered," -- cat "$work/real-guest.json"
expect "--level host replays the registrations themselves" 0 "\"requests\": $registered," -- cat "$work/real-host.json"
expect "an unknown --level" 1 "level" -- "$dartlab" replay "$real_log" --level hypervisor
expect "the stderr form replays too" 0 '"format": "qemu-log"' -- "$dartlab" replay "$src/traces/samples/qemu-apple-dma-real-stderr.log" --json -
for rec in "$src"/traces/samples/real/*.trace; do
  expect "real recording $(basename "$rec") replays with no error" 0 '"format": "ftrace"' -- "$dartlab" replay "$rec" -p direct --json -
done
expect "iommu events name no device, and --device says it cannot pick them" 2 "cannot tell this device's from others'" -- \
  "$dartlab" replay "$src/traces/samples/real/real-iommu.trace" --device 0000:00:01.0

# Inputs as a newcomer gives them: sniffing, compression, empty results, exit codes, escaped bytes
{ echo '$ cat /sys/kernel/tracing/trace'; cat "$src/traces/samples/ftrace-trace-flags.txt"; } >"$work/junk-first.txt"
expect "a junk line before ftrace content is sniffed past" 0 '"format": "ftrace"' -- "$dartlab" replay "$work/junk-first.txt" --json -
printf 'hello\nworld\n' >"$work/mystery.txt"
expect "an unknown format names the formats tried and --format" 2 "Tried: text, binary, ftrace, qemu-log, apple-dma-csv; .*--format" -- \
  "$dartlab" replay "$work/mystery.txt"
gzip -c "$work/g.trace" >"$work/g.trace.gz"
"$dartlab" replay "$work/g.trace.gz" -p direct -p window:256K -q --json "$work/g-gz.json"
expect "a gzip trace replays as the trace it holds" 0 "" -- \
  diff <(grep -E '"(events|peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-text.json") \
       <(grep -E '"(events|peak_mappings|peak_mapped_bytes|host_map_calls|requests)"' "$work/g-gz.json")
expect "a gzip QEMU log read from standard input" 0 '"format": "qemu-log"' -- sh -c "gzip -c \"$qlog\" | \"$dartlab\" replay - --json -"
expect "a wrong --format is an error naming what was skipped" 2 "no events: the ftrace reader skipped all of the input: [0-9]+ x line is not an ftrace event line" -- \
  "$dartlab" replay "$qlog" --format ftrace
expect "a --device that is not there is an error" 2 "no event of device 0000:09:00.0" -- "$dartlab" replay "$qlog" --device 0000:09:00.0
expect "a --device name no trace can hold is a usage error" 1 "is not a device name" -- "$dartlab" replay "$qlog" --device 'gpu 0'
expect "a missing file: stats exits 1" 1 "dartlab stats: .*nope.trace: cannot open" -- "$dartlab" stats "$work/nope.trace"
expect "a missing file: convert exits 1" 1 "dartlab convert: .*nope.trace: cannot open" -- "$dartlab" convert "$work/nope.trace" "$work/x.trace"
expect "a directory is no trace" 1 "is a directory" -- "$dartlab" replay "$work"
expect "a trace read from a FIFO" 0 '"events": 11,' -- sh -c "mkfifo \"$work/in.fifo\" && (cat \"$work/ok.trace\" >\"$work/in.fifo\" &) && \"$dartlab\" replay \"$work/in.fifo\" --json -"
expect "standard input twice is a usage error" 1 "standard input \\('-'\\) can be read only once" -- "$dartlab" replay - -
printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev\nmap 1 d 0x8000 4096 to_dev\n' >"$work/twice.trace"
"$dartlab" convert -q "$work/twice.trace" "$work/twice.dlt"
expect "a binary trace's messages count events, not lines" 2 "twice.dlt: event 2: error: map of id 1 which is still live \\(mapped at event 1\\)" -- \
  "$dartlab" replay "$work/twice.dlt"
"$dartlab" convert -q "$work/two.trace" "$work/two.dlt"
expect "a binary trace's notes count events, not lines" 0 "event of another device than gpu \\(events 2, 3\\)" -- \
  "$dartlab" replay "$work/two.dlt" --device gpu
expect "... and the text trace's still lines" 2 "twice.trace:3: error: map of id 1 which is still live \\(mapped at line 2\\)" -- \
  "$dartlab" replay "$work/twice.trace"
{ printf 'dartlab-trace v1\nmap 1 '; head -c 5000 /dev/zero | tr '\0' a; printf ' 0x4000 4096 to_dev\nunmap 1\n'; } >"$work/longdev.trace"
expect "a device name past the binary format's limit says the limit" 1 "is 5000 bytes long: the binary format's limit is 4096 bytes" -- \
  "$dartlab" convert "$work/longdev.trace" "$work/longdev.dlt"
test ! -e "$work/longdev.dlt" && passed=$((passed + 1)) || { echo "FAIL: a refused conversion left a file"; failed=$((failed + 1)); }
printf 'dartlab-trace v1\nmap 1 gpu 0x1000 4\033[2J to_dev\n' >"$work/esc.trace"
expect "bytes of a trace are escaped in errors" 2 "'4\\\\x1b\\[2J'" -- "$dartlab" replay "$work/esc.trace"
if "$dartlab" replay "$work/esc.trace" 2>&1 | grep -q $'\033'; then
  echo "FAIL: a raw ESC reached the terminal"; failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
printf '# tracer: nop\n  x-1 [000] ...1. 1.000001: dma_\033]0;t\007: y\n%s\n' "$(sed -n 2p "$src/traces/samples/ftrace-trace-pipe.txt")" >"$work/esc.ftrace"
expect "bytes of a trace are escaped in notes, and JSON stays valid" 0 '"what": "unknown event .*\\\\x1b' -- "$dartlab" stats "$work/esc.ftrace" --json -

# Timed mode: bandwidth and timed replay (SystemC)
expect "bandwidth help lists the presets" 0 "tb3" -- "$dartlab" bandwidth --help
expect "bandwidth json has gib_per_s" 0 '"gib_per_s": [0-9.]+' -- "$dartlab" bandwidth --link tb3 --dir h2d --size 16M --json -
expect "bandwidth: unknown link" 1 "tb9" -- "$dartlab" bandwidth --link tb9 --dir h2d --size 16M
expect "bandwidth: bad size" 1 "size" -- "$dartlab" bandwidth --link tb3 --dir h2d --size lots
expect "timed replay reports simulated time" 0 '"simulated_time_ns": [0-9.]+' -- \
  "$dartlab" replay "$work/ok.trace" --timed --link tb3 --json -
expect "timed replay reports per-map latency" 0 '"p99' -- "$dartlab" replay "$work/ok.trace" --timed --json -
expect "timed replay of a bad trace names its line" 2 "bad-len.trace:2:[0-9]+: error" -- \
  "$dartlab" replay "$work/bad-len.trace" --timed
expect "timed replay refuses --csv" 1 "--csv is not available with --timed" -- \
  "$dartlab" replay "$work/ok.trace" --timed --csv -

# report: HTML from replay or sweep JSON; hostile input named by file and field, nothing written
expect "report help explains the frontier" 0 "Pareto" -- "$dartlab" report --help
expect "report needs -o" 1 "output" -- "$dartlab" report "$work/out.json"
expect "report of a replay" 0 "2 results from 1 file" -- "$dartlab" report "$work/out.json" -o "$work/r.html"
expect "report page has its plots" 0 '<svg class="plot"' -- cat "$work/r.html"
expect "report page names the host's limit" 0 "host limit: 65,536 mappings" -- cat "$work/r.html"
expect "report to stdout" 0 '^<!DOCTYPE html>' -- "$dartlab" report "$work/out.json" -o - -q
expect "report of the sweep fixture" 0 "10 results" -- "$dartlab" report "$src/tests/report/sweep.json" -o "$work/s.html"
expect "report escapes trace names" 0 'traces/&lt;b&gt;odd&lt;/b&gt; &amp; &quot;quoted&quot;.trace' -- cat "$work/s.html"
if grep -q 'http' "$work/r.html" "$work/s.html"; then echo "FAIL: report names a URL"; failed=$((failed + 1)); else passed=$((passed + 1)); fi
printf '{"results": [1,' >"$work/trunc.json"
expect "report: not JSON names file:line:col" 1 "trunc.json:1:[0-9]+: not JSON" -- "$dartlab" report "$work/trunc.json" -o "$work/bad.html"
sed 's/"peak_mappings": [0-9]*/"peak_mappings": -3/' "$work/out.json" >"$work/neg.json"
expect "report: a negative count names its field" 1 "neg.json: results\[0\].peak_mappings: expected an unsigned" -- \
  "$dartlab" report "$work/neg.json" -o "$work/bad.html"
expect "report: stats JSON is not results" 1 "results: missing" -- \
  sh -c "\"$dartlab\" stats \"$work/ok.trace\" --json \"$work/stats.json\" -q && \"$dartlab\" report \"$work/stats.json\" -o \"$work/bad.html\""
expect "report: a missing input" 1 "nope.json: cannot open" -- "$dartlab" report "$work/nope.json" -o "$work/bad.html"
test ! -e "$work/bad.html" && test ! -e "$work/bad.html.tmp" && passed=$((passed + 1)) ||
  { echo "FAIL: a failed report left a file"; failed=$((failed + 1)); }
expect "report: standard input only once" 1 "once" -- "$dartlab" report - - -o "$work/bad.html"

# stress: soak until the first refused map, the reproduce line, --shrink
stress_frag=(--policy window:1M --dart aperture=92M --profile churn --churn-live 64M --churn-max 1M --seed 2)
expect "stress help explains the exit codes" 0 "4 a failure found" -- "$dartlab" stress --help
expect "stress help lists the generator knobs" 0 "--churn-live" -- "$dartlab" stress --help
expect "stress: a failure exits 4 naming event and reason" 4 "refused: map .* reason fragmented" -- \
  "$dartlab" stress "${stress_frag[@]}"
expect "stress: the DART's state at the failure" 4 "DART then: [0-9]+ live mappings, .* largest free extent" -- \
  "$dartlab" stress "${stress_frag[@]}"
expect "stress: the fragmentation curve" 4 "worst per [0-9]+ event" -- "$dartlab" stress "${stress_frag[@]}"
out=$("$dartlab" stress "${stress_frag[@]}" 2>&1)
first=$(grep -Eo 'FAILED at event [0-9]+' <<<"$out")
repro=$(sed -n 's/^reproduce: dartlab //p' <<<"$out")
expect "stress: the reproduce line gives the same failure event" 4 "^$first:" -- \
  sh -c "eval \"\\\"$dartlab\\\" $repro\""
expect "stress: the reproduce line sets every churn knob" 0 "--churn-long-factor 16 .*--seed 2 --max-events [0-9]+" -- \
  echo "$repro"
expect "stress: no failure within the bound exits 0" 0 "no failure within 3000 events" -- \
  "$dartlab" stress --policy window:256K --churn-live 64M --churn-max 1M --max-events 3000
expect "stress: the reproduce line is printed without a failure too" 0 "reproduce: dartlab stress .*--max-events 3000" -- \
  "$dartlab" stress --policy window:256K --churn-live 64M --churn-max 1M --max-events 3000
expect "stress: json on stdout" 4 '"stopped_by": "failure"' -- "$dartlab" stress "${stress_frag[@]}" --json -
for field in events bytes_moved failure reason fragmentation frag_index bucket_events reproduce; do
  expect "stress json has $field" 4 "\"$field\":" -- "$dartlab" stress "${stress_frag[@]}" --json -
done
expect "stress --shrink writes and shows a small trace" 4 "shrink: [0-9]+ events .* -> [0-9]+ events" -- \
  "$dartlab" stress "${stress_frag[@]}" --shrink -o "$work/minimal.trace"
expect "stress --shrink: the trace is 1-minimal" 4 "1-minimal" -- \
  "$dartlab" stress "${stress_frag[@]}" --shrink -o "$work/minimal.trace"
expect "stress --shrink prints how to see it fail" 4 "see it fail: dartlab replay .*minimal.trace --policy window:1M" -- \
  "$dartlab" stress "${stress_frag[@]}" --shrink -o "$work/minimal.trace"
expect "the shrunk trace fails the same way under replay" 0 '"reason": "fragmented"' -- \
  "$dartlab" replay "$work/minimal.trace" --policy window:1M --dart aperture=92M --json -
expect "the shrunk trace says how it was made" 0 "# shrunk from [0-9]+ events .* dartlab stress" -- cat "$work/minimal.trace"
printf 'dartlab-trace v1\nmap 1 gpu 0x40000000 4K to_dev\nunmap 1\nmap 2 gpu 0x40004000 16K to_dev\n' >"$work/loop.trace"
expect "stress loops a trace with jitter" 0 "no failure within 1000 events" -- \
  "$dartlab" stress --trace "$work/loop.trace" --jitter 1M --max-events 1000
expect "stress loops a leaking trace until it fails" 4 "reason slots" -- \
  "$dartlab" stress --trace "$work/loop.trace" --leftovers keep --jitter 1G --dart slots=50 --policy direct
expect "stress: a looped trace's reproduce line" 4 "reproduce: dartlab stress .*--trace .*loop.trace --jitter 1G --leftovers keep" -- \
  "$dartlab" stress --trace "$work/loop.trace" --leftovers keep --jitter 1G --dart slots=50 --policy direct
expect "stress: a bad looped trace exits 2 with its line" 2 "never.trace:2: error: unmap of id 9 which is not live" -- \
  "$dartlab" stress --trace "$work/never.trace"
expect "stress: knobs mean nothing with --trace" 1 "--churn-live sets a generator knob" -- \
  "$dartlab" stress --trace "$work/loop.trace" --churn-live 64M
expect "stress: --jitter needs --trace" 1 "--jitter applies to --trace only" -- "$dartlab" stress --jitter 1M
expect "stress: --level needs --trace" 1 "--level applies to --trace only" -- "$dartlab" stress --level host
expect "stress: a looped real-device log's reproduce line keeps its level" 0 "reproduce: dartlab stress .*--trace .*qemu-apple-dma-real.log .*--level host" -- \
  "$dartlab" stress --trace "$src/traces/samples/qemu-apple-dma-real.log" --level host --max-events 500
expect "stress: standard input cannot be looped" 1 "cannot be looped" -- "$dartlab" stress --trace -
expect "stress: bad policy" 1 "--policy" -- "$dartlab" stress --policy window:3K
expect "stress: bad knob" 1 "churn" -- "$dartlab" stress --churn-max 3M

# The bundled samples replay cleanly under the demo's policies
for sample in "$src"/traces/samples/*.trace; do
  expect "sample $(basename "$sample") replays" 0 '"access_faults": 0' -- \
    "$dartlab" replay "$sample" -p direct -p window:64K -p window:256K -p window:1M --json -
done

# sweep and merge: configs are hostile input too; exit 1 for the config, 2 for a trace
expect "sweep help explains the config" 0 "params" -- "$dartlab" sweep --help
expect "merge help" 0 "byte for byte" -- "$dartlab" merge --help
cat >"$work/sweep.toml" <<T
traces = ["ok.trace", "g.trace"]
policies = ["direct", "window:{size}"]
darts = ["", "slots=2"]
[params]
size = ["64K", "1M"]
T
expect "sweep --list numbers the points" 0 "^ +11 +3/3 +window:1M" -- "$dartlab" sweep "$work/sweep.toml" --list --shard 3/3
expect "sweep table marks the frontier" 0 "\\* +[0-9]+ +window" -- "$dartlab" sweep "$work/sweep.toml"
expect "sweep json to stdout" 0 '"point": 11,' -- "$dartlab" sweep "$work/sweep.toml" --json - -j 2
expect "sweep csv to stdout" 0 '^point,pareto,trace,policy,dart,params_size,' -- "$dartlab" sweep "$work/sweep.toml" --csv -
expect "sweep summary line" 0 "12 points of 12 \\(shard 1/1\\)" -- "$dartlab" sweep "$work/sweep.toml" --json "$work/sw.json"
expect "report reads a sweep's own JSON, frontier included" 0 "12 results from 1 file" -- \
  "$dartlab" report "$work/sw.json" -o "$work/sw.html"
"$dartlab" sweep "$work/sweep.toml" --shard 1/2 --json "$work/sw1.json" -q
"$dartlab" sweep "$work/sweep.toml" --shard 2/2 --json "$work/sw2.json" -q
expect "merge of both shards" 0 '"pareto": \[' -- "$dartlab" merge "$work/sw1.json" "$work/sw2.json" --json -
expect "merge names a missing shard" 1 "shard 2/2: points 1, 3, 5, 7, 9, 11 \\(no input is this shard\\)" -- \
  "$dartlab" merge "$work/sw1.json"
expect "merge refuses a file that is not JSON" 1 "ok.trace: not JSON" -- "$dartlab" merge "$work/sw1.json" "$work/ok.trace"
expect "merge refuses replay output" 1 "out.json: not a dartlab sweep result" -- "$dartlab" merge "$work/out.json"
printf 'traces = ["ok.trace"]\npolicies = ["window:{size}"]\n[params]\nsize = ["64K", "100K"]\n' >"$work/badspec.toml"
expect "sweep: a bad spec names file, line, key and values" 1 "badspec.toml:2: policies\\[0\\]: 'window:\\{size\\}' with size=100K: .*power of two" -- \
  "$dartlab" sweep "$work/badspec.toml"
printf 'traces = ["ok.trace"]\npolicies = ["direct"]\ncolour = "red"\n' >"$work/badkey.toml"
expect "sweep: an unknown key" 1 "badkey.toml:3: colour: unknown key" -- "$dartlab" sweep "$work/badkey.toml"
printf 'traces = ["nope.trace"]\npolicies = ["direct"]\n' >"$work/notrace.toml"
expect "sweep: a missing trace names the key" 1 "notrace.toml: traces\\[0\\]: 'nope.trace': No such file" -- "$dartlab" sweep "$work/notrace.toml"
printf 'traces = ["bad-len.trace"]\npolicies = ["direct", "window:64K"]\n' >"$work/badtrace.toml"
expect "sweep: a malformed trace is exit 2 with its line" 2 "bad-len.trace:2:[0-9]+: error" -- "$dartlab" sweep "$work/badtrace.toml"
expect "sweep: --shard out of range" 1 "--shard '4/3': I must be 1 to N" -- "$dartlab" sweep "$work/sweep.toml" --shard 4/3
expect "sweep: a config that is neither TOML nor JSON" 1 "TOML \\(.toml\\) or JSON \\(.json\\)" -- "$dartlab" sweep "$work/ok.trace"
printf '{"traces": ["ok.trace"], "policies": ["direct"]' >"$work/broken.json"
expect "sweep: broken JSON" 1 "broken.json: error: not JSON" -- "$dartlab" sweep "$work/broken.json"
expect "sweep: unwritable json leaves nothing" 1 "cannot write .*x.json: No such file" -- "$dartlab" sweep "$work/sweep.toml" --json "$work/no/dir/x.json" -q

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
