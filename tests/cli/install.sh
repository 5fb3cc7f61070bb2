#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install's parts (issue 14, item 17): the install into a DESTDIR lays out the command, a man
# page per subcommand and the bash completion; the installed command runs and says its version;
# the completion offers what --help lists; gen shows progress on a terminal and a summary line.
# Usage: install.sh DARTLAB_BINARY SOURCE_DIR BUILD_DIR
set -uo pipefail
dartlab=$1
src=$2
build=$3
source "$src/tests/cli/expect.sh"
cd "$work" || exit 1

# --version: the project's version and, in a git checkout, git describe.
version=$(sed -n 's/^project(dartlab VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
expect "--version names the project version" 0 "^dartlab $version( \\(|$)" -- "$dartlab" --version
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  described=$("$dartlab" --version | sed -n 's/.*(\(.*\))$/\1/p')
  commit=${described%-dirty}
  commit=${commit##*-g}
  check "--version names a commit of this checkout ($described)" -- git -C "$src" cat-file -e "$commit^{commit}"
fi

# The install, staged in a DESTDIR as a packager would.
expect "cmake --install into a DESTDIR" 0 "" -- env DESTDIR="$work/stage" cmake --install "$build" --prefix /usr
root=$work/stage/usr
check "the command is installed" -- test -x "$root/bin/dartlab"
expect "the installed command runs" 0 "^dartlab $version" -- "$root/bin/dartlab" --version
subcommands=$("$dartlab" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
check "there are subcommands" -- test -n "$subcommands"
check "a man page for dartlab" -- test -s "$root/share/man/man1/dartlab.1"
for sub in $subcommands; do
  page=$root/share/man/man1/dartlab-$sub.1
  check "a man page for $sub" -- test -s "$page"
  expect "$sub's page is titled after it" 0 "^\\.TH DARTLAB-$(tr a-z A-Z <<<"$sub") \"1\"" -- cat "$page"
  # Every flag --help lists is in the page (help2man escapes dashes as \-).
  for flag in $("$dartlab" "$sub" --help | awk '/^ +--[a-z]/ { n = split($1, a, ","); print a[n] }' | sort -u); do
    grep -qF -- "$(sed 's/-/\\-/g' <<<"$flag")" "$page" || { echo "FAIL: $sub's man page lacks $flag"; failed=$((failed + 1)); }
  done
  passed=$((passed + 1))
done
if command -v man >/dev/null; then
  expect "man renders the replay page" 0 "--policy" -- env MANWIDTH=100 man -l "$root/share/man/man1/dartlab-replay.1"
fi
completion=$root/share/bash-completion/completions/dartlab
check "the bash completion is installed" -- test -s "$completion"

# The completion: subcommands, flags, choices, files; all read from --help.
complete_words() {  # complete_words WORD...: what the completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dartlab; printf "%s\n" "${COMPREPLY[@]}"' \
    complete "$completion" "$dartlab" "$@" | sort | tr '\n' ' '
}
expect "completion: every subcommand" 0 "^$(echo $subcommands | tr ' ' '\n' | sort | tr '\n' ' ')\$" -- complete_words ""
expect "completion: a subcommand by its start" 0 "^replay report \$" -- complete_words rep
expect "completion: a flag of the subcommand" 0 "^--policy \$" -- complete_words replay --pol
expect "completion: a flag's choices" 0 "^apple-dma-csv auto binary ftrace qemu-log text \$" -- complete_words stats --format ""
expect "completion: a flag's value is a file" 0 "out.json" -- sh -c "touch out.json; $(declare -f complete_words); completion='$completion' dartlab='$dartlab' complete_words replay --json o"
expect "completion: a flag takes no value, the next word is a file" 0 "ok.trace" -- \
  sh -c "touch ok.trace; $(declare -f complete_words); completion='$completion' dartlab='$dartlab' complete_words replay --lenient ok"
expect "completion: top-level flags" 0 "--version" -- complete_words --v

# gen: a summary line on stderr, none with -q; a progress line on a terminal.
expect "gen: a summary line" 0 "^dartlab gen: 20000 events of game \\(seed 3\\) -> g.dlt: binary, [0-9.]+ KiB in [0-9.]+ s" -- \
  "$dartlab" gen game -n 20000 -s 3 -o g.dlt
check "gen -q says nothing" -- test -z "$("$dartlab" gen game -n 2000 -o q.trace -q 2>&1)"
expect "gen: the trace on stdout stays clean" 0 "^dartlab-trace v1" -- sh -c "\"$dartlab\" gen game -n 100 2>/dev/null | head -1"
expect "gen: the summary for stdout" 0 "-> standard output: text" -- sh -c "\"$dartlab\" gen game -n 100 2>&1 >/dev/null"
expect "gen: progress on a terminal" 0 "dartlab gen: +[0-9.]+%  [0-9]+ events" -- \
  script -qec "\"$dartlab\" gen game -n 400000 -o p.trace" /dev/null

finish
