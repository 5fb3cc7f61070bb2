#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Results as people and programs read them (issue 14): one CSV schema for replay and sweep;
# each row of a replay table with several DARTs says which; rates in units that fit them;
# mapped bytes in the DART's own pages; timed-out flushes counted and warned about; stress -q;
# report of replay --timed JSON.
# Usage: results.sh DARTLAB_BINARY SOURCE_DIR
set -uo pipefail
dartlab=$1
src=$2
source "$src/tests/cli/expect.sh"
cd "$work" || exit 1
game=$src/traces/samples/game.trace

# One CSV schema (item 12): replay's columns are the sweep's without point, pareto and params.
printf 'traces = ["%s"]\npolicies = ["direct", "window:256K"]\ndarts = ["", "slots=2048,aperture=64M"]\n' "$game" >one.toml
"$dartlab" replay "$game" -p direct -p window:256K --dart "" --dart slots=2048,aperture=64M --csv replay.csv -q
"$dartlab" sweep one.toml --csv sweep.csv -q
# (replay orders DART-major, the sweep policy-major: compare the header, then the rows sorted)
check "replay and sweep CSV: the same header" -- cmp <(head -1 replay.csv) <(head -1 sweep.csv | cut -d, -f3-)
check "replay and sweep CSV: the same cells" -- cmp <(tail -n +2 replay.csv | sort) <(tail -n +2 sweep.csv | cut -d, -f3- | sort)
expect "the sweep CSV leads with point and pareto" 0 "^point,pareto,trace,policy,dart,events," -- head -1 sweep.csv
expect "first failure columns are named alike" 0 ",first_failure_event,first_failure_reason,first_failure_line," -- \
  head -1 replay.csv
expect "failure reasons are named alike" 0 ",failures_by_reason_invalid,failures_by_reason_slots," -- head -1 replay.csv
printf 'traces = ["%s"]\npolicies = ["window:{size}"]\n[params]\nsize = ["64K"]\n' "$game" >params.toml
expect "a parameter's column comes after dart" 0 "^point,pareto,trace,policy,dart,params_size,events," -- \
  sh -c "\"$dartlab\" sweep params.toml --csv - -q | head -1"

# The replay table labels each row's DART when there are several (item 13).
expect "rows name their DART" 0 "window:256K +B +256 " -- \
  "$dartlab" replay "$game" -p direct -p window:256K --dart "" --dart slots=2048,aperture=64M
expect "the letters are spelled out" 0 "dart B: aperture=64M,slots=2048," -- \
  "$dartlab" replay "$game" -p direct --dart "" --dart slots=2048,aperture=64M
expect "one DART: no column, one line" 0 "^  dart: aperture=1536M" -- "$dartlab" replay "$game" -p direct

# Rates in units that fit them (item 14).
expect "a 1-byte copy is not 0.00 GiB/s" 0 "x 10 \\(burst\\): [0-9.]+ (B|KiB|MiB)/s \\([0-9.]+ (B|kB|MB)/s\\)" -- \
  "$dartlab" bandwidth --size 1
if "$dartlab" bandwidth --size 1 | grep -q "0\.00 "; then echo "FAIL: a rate shown as 0.00"; failed=$((failed + 1)); else passed=$((passed + 1)); fi
expect "a large copy is in GiB/s" 0 ": [0-9.]+ GiB/s \\([0-9.]+ GB/s\\)" -- "$dartlab" bandwidth --size 64M

# Mapped bytes in the DART's own pages (item 2): a 4 KiB map under page=64K maps 64 KiB.
printf 'dartlab-trace v1\nmap 1 d 0x1c000 32K to_dev\nmap 2 d 0x104000 4K to_dev\nunmap 1\nunmap 2\n' >pages.trace
"$dartlab" replay pages.trace -p direct --dart page=64K --json page64.json -q
expect "replay: peak mapped bytes in 64K pages" 0 '"peak_mapped_bytes": 196608,' -- cat page64.json
expect "replay: exposure in 64K pages" 0 '"exposure_peak_bytes": 159744,' -- cat page64.json
expect "replay: the page is in the limits" 0 '"page_bytes": 65536' -- cat page64.json
expect "replay: the CSV has the page" 0 ',limits_page_bytes,' -- "$dartlab" replay pages.trace --csv -
expect "replay: 16K pages as before" 0 '"peak_mapped_bytes": 49152,' -- "$dartlab" replay pages.trace -p direct --json -
expect "stats: the clustering potential in 64K pages" 0 '"peak_mapped_bytes": 196608,' -- \
  "$dartlab" stats pages.trace --page 64K --json -
expect "stats: names its page" 0 '"clustering_page_bytes": 65536' -- "$dartlab" stats pages.trace --page 64K --json -
expect "stats: the table names its page" 0 "bytes in 64K DART pages" -- "$dartlab" stats pages.trace --page 64K
expect "stats: a page the DART cannot have" 1 "--page: page=3K: the page size must be a power of two from 4K to 64K" -- \
  "$dartlab" stats pages.trace --page 3K
expect "report: names the pages its results count in" 0 '>64 KiB pages<' -- \
  sh -c "\"$dartlab\" report page64.json -o - -q"
sed 's/"page_bytes": 65536/"page_bytes": 3000/' page64.json >page-bad.json
expect "report: a page that is no power of two" 1 "page-bad.json: results\\[0\\].limits.page_bytes: 3000 is not a power of two" -- \
  "$dartlab" report page-bad.json -o bad.html

# Timed flushes that hit the busy-poll timeout are counted, summed up and warned about (item 3).
printf 'dartlab-trace v1\nmap 1 d 0x40000000 64K to_dev\nunmap 1\nmap 2 d 0x40100000 4K from_dev\nunmap 2\n' >timed.trace
expect "timed: a 1 s flush hits the 100 us timeout, counted in JSON" 0 '"flush_timeouts": [1-9]' -- \
  "$dartlab" replay timed.trace --timed --dart flush-hw=1s --json - -q
expect "timed: ... and warned about" 0 "warning: .*IOTLB flushes hit the poll timeout \\(poll-timeout=100us, flush-hw=1000ms\\)" -- \
  "$dartlab" replay timed.trace --timed --dart flush-hw=1s --json - -q
expect "timed: ... and in the summary" 0 "^  4 of 4 flushes hit the 100us poll timeout" -- \
  "$dartlab" replay timed.trace --timed --dart flush-hw=1s
expect "timed: a 1 ns timeout is no cheaper flush, it is a warning" 0 "warning: timed.trace under window:256K: 4 of 4 IOTLB flushes hit the poll timeout \\(poll-timeout=1ns" -- \
  "$dartlab" replay timed.trace --timed --dart poll-timeout=1ns -q
expect "timed: by default no flush times out" 0 '"flush_timeouts": 0,' -- "$dartlab" replay timed.trace --timed --json - -q
if "$dartlab" replay timed.trace --timed -q 2>&1 | grep -q warning; then
  echo "FAIL: a warning without a timeout"; failed=$((failed + 1)); else passed=$((passed + 1)); fi

# stress -q: the verdict and the reproduce line, no progress, curve or narrative (item 11).
stress_frag=(--policy window:1M --dart aperture=92M --churn-live 64M --churn-max 1M --seed 2)
expect "stress -q keeps the verdict" 4 "^FAILED at event [0-9]+" -- "$dartlab" stress "${stress_frag[@]}" -q
expect "stress -q keeps the reproduce line" 4 "^reproduce: dartlab stress " -- "$dartlab" stress "${stress_frag[@]}" -q
quiet=$("$dartlab" stress "${stress_frag[@]}" -q --shrink -o quiet.trace 2>&1)
if grep -Eq "fragmentation index|DART then|^stress:|dartlab-trace" <<<"$quiet"; then
  echo "FAIL: stress -q printed the details"; echo "$quiet" | head; failed=$((failed + 1)); else passed=$((passed + 1)); fi
expect "stress -q --shrink says what it wrote" 0 "^wrote quiet.trace \\([0-9]+ events\\)" -- echo "$quiet"
check "stress -q --shrink wrote the trace" -- test -s quiet.trace

# report takes replay --timed JSON and plots it (item 11).
"$dartlab" replay "$game" --timed -p direct -p window:256K --json timed.json -q
expect "report of timed runs" 0 "0 results and 2 timed runs from 1 file" -- "$dartlab" report timed.json -o timed.html
expect "the timed section" 0 '<section id="timed">' -- cat timed.html
expect "its three bar charts" 0 'data-kind="bar"' -- cat timed.html
check "three of them" -- test "$(grep -o 'data-kind="bar"' timed.html | wc -l)" -eq 3
"$dartlab" replay "$game" --json untimed.json -q
expect "timed and untimed in one page" 0 "1 results and 2 timed runs from 2 files" -- \
  "$dartlab" report untimed.json timed.json -o both.html
sed 's/"p50": [0-9.e+]*/"p50": 1e12/' timed.json >timed-bad.json
expect "hostile timed JSON names its field" 1 "timed-bad.json: timed\\[0\\].map_latency_ns: p50" -- \
  "$dartlab" report timed-bad.json -o bad.html

finish
