#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dartlab report in a real browser: makes reports from a replay of the bundled samples and from a
# sweep fixture, renders each in Debian's headless Chromium, and checks that the page loaded with
# no script error, that every plot drew (the page's own check with getBBox, read from the dumped
# DOM), that no console error was logged and that nothing points to the network. If Chromium is
# missing or cannot run, this FAILS: the report is not tested otherwise.
# Usage: render.sh DARTLAB_BINARY SOURCE_DIR
#
# sweep.json beside this script: the JSON a sweep writes ("sweep", "results" with "point",
# "pareto" as flags), hand-made: two traces (one named with HTML in it), five points each, a
# host of 4,096 slots and 256 MiB, refusals by slots and by aperture, 64-point series.
set -uo pipefail
dartlab=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "FAIL: chromium not found: install Debian's chromium (scripts/install-deps.sh)"
  exit 1
fi

# No network at all: the page must not need it (and a proxy pointing nowhere makes sure).
mkdir -p "$work/profile"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$work/profile" --proxy-server=127.0.0.1:9
       --enable-logging=stderr --v=0 --hide-scrollbars --window-size=1400,1800)

# render NAME HTML EXPECTED_PLOTS: loads HTML in headless Chromium and checks the dumped DOM.
render() {
  local name=$1 html=$2 plots=$3
  timeout 25 "$chromium" "${flags[@]}" --dump-dom "file://$html" >"$work/$name.dom" 2>"$work/$name.log"
  local rc=$?
  if [ "$rc" -ne 0 ] || [ ! -s "$work/$name.dom" ]; then
    fail "$name: chromium exited $rc with no page"; tail -5 "$work/$name.log"; return
  fi
  grep -q 'data-ok="1"' "$work/$name.dom" && pass || fail "$name: the page's closing script did not run (data-ok missing)"
  if grep -q 'data-errors=' "$work/$name.dom"; then
    fail "$name: script errors: $(grep -o 'data-errors="[^"]*"' "$work/$name.dom")"
  else
    pass
  fi
  if grep -Eq 'Uncaught|ERROR:CONSOLE' "$work/$name.log"; then
    fail "$name: console errors:"; grep -E 'Uncaught|ERROR:CONSOLE' "$work/$name.log" | head -5
  else
    pass
  fi
  grep -q "data-plots=\"$plots\"" "$work/$name.dom" && pass ||
    fail "$name: expected $plots plots, page says $(grep -o 'data-plots="[0-9]*"' "$work/$name.dom")"
  grep -q "data-plots-drawn=\"$plots\"" "$work/$name.dom" && pass ||
    fail "$name: expected $plots plots drawn with non-zero size, page says $(grep -o 'data-plots-drawn="[0-9]*"' "$work/$name.dom")"
  local svgs
  svgs=$(grep -o '<svg class="plot"' "$work/$name.dom" | wc -l)
  [ "$svgs" -eq "$plots" ] && pass || fail "$name: $svgs <svg class=\"plot\"> in the DOM, expected $plots"
  # Line charts carry non-empty paths in the DOM Chromium built.
  if [ "$(grep -Eo '<path class="series"[^>]* d="M[0-9]' "$work/$name.dom" | wc -l)" -gt 0 ]; then pass; else
    fail "$name: no series path with data"; fi
  # Our two scripts and no other: names with HTML in them stayed text.
  local scripts
  scripts=$(grep -o '<script' "$work/$name.dom" | wc -l)
  [ "$scripts" -eq 2 ] && pass || fail "$name: $scripts <script> elements in the DOM, expected 2"
}

# screenshot HTML: Chromium paints the page (a blank page compresses to a few KB).
screenshot() {
  timeout 25 "$chromium" "${flags[@]}" --screenshot="$work/shot.png" "file://$1" >/dev/null 2>&1
  [ -s "$work/shot.png" ] && [ "$(stat -c %s "$work/shot.png")" -gt 20000 ] && pass ||
    fail "$1: no screenshot, or a blank one"
}

# no_network HTML: no URL other than the SVG namespace (which inline SVG does not even need).
no_network() {
  if grep -v 'http://www.w3.org/2000/svg' "$1" | grep -qi 'http'; then
    fail "$1 names a URL: $(grep -oi '[a-z]*://[^" ]*' "$1" | head -3)"
  else
    pass
  fi
}

# 1. A real replay of the bundled samples, under the observed host and a stingy one (refusals).
# Relative names, as the sweep fixture has them: the game trace is one section in the joint page.
samples=(traces/samples/game.trace traces/samples/uvm.trace traces/samples/churn.trace)
if ! (cd "$src" && "$dartlab" replay "${samples[@]}" -p direct -p window:64K -p window:256K -p window:1M \
      --dart "" --dart aperture=64M,slots=2048 --json "$work/replay.json" -q); then
  fail "replay of the samples"
fi
"$dartlab" report "$work/replay.json" -o "$work/replay.html" -q || fail "report of the replay"
no_network "$work/replay.html"
# Four plots per trace when the results carry series, else the Pareto plot alone.
per_trace=1
grep -q '"series"' "$work/replay.json" && per_trace=4
render replay "$work/replay.html" $((${#samples[@]} * per_trace))

# 2. A sweep's JSON (two traces), and both inputs in one page: the game trace is in both, so one
# section (with series from the sweep at least) and uvm, churn and the odd trace.
"$dartlab" report "$src/tests/report/sweep.json" -o "$work/sweep.html" --title 'Sweep <&>' -q || fail "report of the sweep"
no_network "$work/sweep.html"
render sweep "$work/sweep.html" 8
"$dartlab" report "$work/replay.json" "$src/tests/report/sweep.json" -o "$work/both.html" -q || fail "report of both"
render both "$work/both.html" $((4 + 2 * per_trace + 4))
screenshot "$work/both.html"

# 3. The JSON of replay --timed beside the replay's: its three bar charts (simulated time, host
# time by step, map latency) draw too.
(cd "$src" && "$dartlab" replay traces/samples/game.trace --timed -p direct -p window:256K --json "$work/timed.json" -q) ||
  fail "timed replay of the game"
"$dartlab" report "$work/replay.json" "$work/timed.json" -o "$work/timed.html" -q || fail "report of the timed replay"
no_network "$work/timed.html"
render timed "$work/timed.html" $((${#samples[@]} * per_trace + 3))
grep -c '<rect x=' "$work/timed.html" >/dev/null && pass || fail "timed: no bars"
screenshot "$work/timed.html"

# 4. The real world's policies: bounce, and cap, whose waits get a fifth plot in the trace's section.
(cd "$src" && "$dartlab" replay traces/samples/game.trace -p window:64K -p bounce -p cap:window:64K,windows=300 \
   --json "$work/policies.json" -q) || fail "replay of the game under bounce and cap"
"$dartlab" report "$work/policies.json" -o "$work/policies.html" -q || fail "report of bounce and cap"
grep -q 'Requests waiting for room' "$work/policies.html" && pass || fail "policies: no plot of the waits"
render policies "$work/policies.html" 5

echo "report render: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
