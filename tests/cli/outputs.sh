#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Output paths (issue 14, item 4): --json through a symbolic link writes its target atomically
# and keeps the link; two outputs naming one file, or both standard output, are usage errors;
# output paths are checked before any input is read; a table that does not reach standard
# output exits 1; an interrupted gen or convert leaves no FILE.tmp behind.
# Usage: outputs.sh DARTLAB_BINARY SOURCE_DIR
set -uo pipefail
dartlab=$1
src=$2
source "$src/tests/cli/expect.sh"
cd "$work" || exit 1

printf 'dartlab-trace v1\nmap 1 d 0x4000 4096 to_dev\nunmap 1\n' >ok.trace
printf 'dartlab-trace v1\nmap 1 d 0x4000 4Q to_dev\n' >bad.trace

# A symbolic link is written through: its target replaced atomically, the link kept.
mkdir real
echo old >real/target.json
ln -s real/target.json link.json
expect "json through a symlink" 0 "" -- "$dartlab" replay ok.trace --json link.json -q
check "the link is still a link" -- test -L link.json
check "its target holds the results" -- grep -q '"results"' real/target.json
check "no temporary file is left" -- test ! -e real/target.json.tmp -a ! -e link.json.tmp
ln -s real/new.csv dangling.csv
expect "csv through a dangling symlink creates its target" 0 "" -- "$dartlab" replay ok.trace --csv dangling.csv -q
check "the dangling link's target was created" -- grep -q '^trace,policy' real/new.csv
check "the dangling link is still a link" -- test -L dangling.csv
ln -s loop1 loop2 && ln -s loop2 loop1
expect "a symlink loop is an error" 1 "--json: cannot write loop1: Too many levels of symbolic links" -- \
  "$dartlab" replay ok.trace --json loop1

# Two outputs into one file, or both to standard output: usage errors, nothing run or written.
expect "--json X --csv X" 1 "--json and --csv both name same.out: give each its own file" -- \
  "$dartlab" replay ok.trace --json same.out --csv same.out
check "nothing written" -- test ! -e same.out
expect "--json - --csv -" 1 "--json and --csv both write to standard output" -- "$dartlab" replay ok.trace --json - --csv -
expect "a link and its target are one file" 1 "both name real/target.json" -- \
  "$dartlab" replay ok.trace --json link.json --csv real/target.json
expect "./X and X are one file" 1 "both name" -- "$dartlab" replay ok.trace --json ./two.out --csv two.out
printf 'traces = ["ok.trace"]\npolicies = ["direct"]\n' >sweep.toml
expect "sweep: --json X --csv X" 1 "dartlab sweep: --json and --csv both name s.out" -- \
  "$dartlab" sweep sweep.toml --json s.out --csv s.out
expect "merge: both to stdout" 1 "dartlab merge: --json and --csv both write to standard output" -- \
  "$dartlab" merge nothing.json --json - --csv -
expect "stress: --json and -o the same file" 1 "dartlab stress: --json and -o both name m.trace" -- \
  "$dartlab" stress --shrink -o m.trace --json m.trace --max-events 10

# Outputs are checked before any input is read: a bad trace would exit 2, a bad output exits 1 first.
expect "replay: the output is checked before the trace is read" 1 "--json: cannot write no/dir/x.json: No such file" -- \
  "$dartlab" replay bad.trace --json no/dir/x.json
expect "replay: stdin is not read first" 1 "--json: cannot write no/dir/x.json" -- \
  sh -c "printf 'junk\n' | \"$dartlab\" replay - --json no/dir/x.json"
expect "replay --timed: the output is checked first" 1 "--json: cannot write no/dir/x.json" -- \
  "$dartlab" replay bad.trace --timed --json no/dir/x.json
expect "a directory is no output file" 1 "--csv: cannot write real: Is a directory" -- "$dartlab" replay bad.trace --csv real
printf 'traces = ["bad.trace"]\npolicies = ["direct"]\n' >badsweep.toml
expect "sweep: the output is checked before the traces are replayed" 1 "--csv: cannot write no/dir/x.csv" -- \
  "$dartlab" sweep badsweep.toml --csv no/dir/x.csv
expect "stress: the output is checked before the soak" 1 "--json: cannot write no/dir/x.json" -- \
  "$dartlab" stress --trace bad.trace --json no/dir/x.json
expect "stress: -o is checked before the soak" 1 "-o: cannot write no/dir/m.trace" -- \
  "$dartlab" stress --trace bad.trace --shrink -o no/dir/m.trace
expect "stats: the output is checked before the trace is read" 1 "--json: cannot write no/dir/x.json" -- \
  "$dartlab" stats bad.trace --json no/dir/x.json
if [ "$(id -u)" -ne 0 ]; then  # root writes anywhere
  mkdir ro && chmod 555 ro
  expect "an unwritable directory" 1 "cannot write ro/x.json: Permission denied" -- "$dartlab" replay bad.trace --json ro/x.json
fi

# Standard output that cannot be written (a full device) is an output error.
if [ -c /dev/full ]; then
  expect "a table to a full device exits 1" 1 "cannot write standard output: No space left on device" -- \
    sh -c "\"$dartlab\" replay ok.trace >/dev/full"
  expect "stats to a full device exits 1" 1 "cannot write standard output" -- sh -c "\"$dartlab\" stats ok.trace >/dev/full"
  expect "help to a full device exits 1" 1 "cannot write standard output" -- sh -c "\"$dartlab\" replay --help >/dev/full"
  expect "a sweep table to a full device exits 1" 1 "cannot write standard output" -- \
    sh -c "\"$dartlab\" sweep sweep.toml -q >/dev/null && \"$dartlab\" sweep sweep.toml 2>&1 >/dev/full"
fi

# SIGINT and SIGTERM during gen or convert: FILE.tmp is removed, the process dies of the signal,
# and an earlier FILE stays as it was.
interrupt() {  # interrupt NAME SIGNAL OUT COMMAND...: start COMMAND, wait for OUT.tmp to grow, signal it
  local name=$1 sig=$2 out=$3
  shift 3
  env --default-signal=INT "$@" 2>/dev/null &
  local pid=$! i
  for i in $(seq 300); do [ -s "$out.tmp" ] && break; sleep 0.1; done
  check "$name: $out.tmp was being written" -- test -s "$out.tmp"
  kill -"$sig" "$pid"
  wait "$pid"
  local rc=$?
  local want=$((128 + $(kill -l "$sig")))
  if [ "$rc" -eq "$want" ]; then passed=$((passed + 1)); else echo "FAIL: $name: exit $rc, expected $want"; failed=$((failed + 1)); fi
  check "$name: $out.tmp is removed" -- test ! -e "$out.tmp"
}
interrupt "gen, SIGINT" INT big.trace "$dartlab" gen game -n 100000000000 -o big.trace
check "gen, SIGINT: no output" -- test ! -e big.trace
echo "keep me" >big.dlt
interrupt "gen binary, SIGTERM" TERM big.dlt "$dartlab" gen game -n 100000000000 -o big.dlt
check "gen, SIGTERM: the old file stays" -- grep -qx "keep me" big.dlt
"$dartlab" gen game -n 200000 -o head.trace
# convert from a FIFO that stays open: it has written its first chunks and waits for more input.
# A FIFO per signal: killing a feeder kills its shell, but its cat may live on until its next
# write fails, and on a shared FIFO that write could reach the next convert (mid-line: exit 2).
for sig in TERM INT; do
  mkfifo "feed-$sig"
  (cat head.trace; exec sleep 60) >"feed-$sig" &
  feeder=$!
  interrupt "convert, SIG$sig" "$sig" "conv-$sig.dlt" "$dartlab" convert "feed-$sig" "conv-$sig.dlt"
  kill "$feeder" 2>/dev/null
  wait "$feeder" 2>/dev/null
done
check "convert: no output" -- test ! -e conv-TERM.dlt -a ! -e conv-INT.dlt

finish
