#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file names its license in an SPDX-License-Identifier line near its top, and that
# license is the one LICENSE gives its part: GPL-2.0 for the Linux kernel modules, GPL-2.0-or-later
# for what is built inside QEMU's tree, MIT for the rest. Data (sample traces, fuzz corpora, JSON)
# and prose (Markdown) are covered by LICENSE's default and not checked line by line.
# Usage: spdx_headers.sh SOURCE_DIR
set -uo pipefail
src=$1
. "$src/tests/support/check.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The license a path's part carries (LICENSE says why).
expected_license() {
  case $1 in
    passthrough/guest/* | tests/guest/hostile/*) echo GPL-2.0 ;;
    passthrough/qemu/hw/* | passthrough/qemu/patches/*) echo GPL-2.0-or-later ;;
    *) echo MIT ;;
  esac
}

# Whether a path is source (code, build files, scripts) rather than data or prose.
is_source() {
  case $1 in
    tests/fuzz/corpus/* | traces/samples/*) return 1 ;;
    *.cpp | *.hpp | *.c | *.h | *.sh | *.py | *.awk | *.cmake | *.toml | *.patch | *.bash-completion) return 0 ;;
    */CMakeLists.txt | CMakeLists.txt | Makefile | */Kbuild | */Kconfig | */meson.build | */trace-events | .ci/run | .gitignore) return 0 ;;
  esac
  return 1
}

# Prints one line per source file under DIR (read from FILE_LIST) whose header is missing or wrong.
audit() {
  local dir=$1 list=$2 path want got
  while IFS= read -r path; do
    is_source "$path" || continue
    want=$(expected_license "$path")
    got=$(head -n 15 "$dir/$path" | sed -n 's/.*SPDX-License-Identifier: \([A-Za-z0-9.+-]*\).*/\1/p' | head -n 1)
    if [ -z "$got" ]; then
      echo "$path: no SPDX-License-Identifier line in its first 15 lines (want $want)"
    elif [ "$got" != "$want" ]; then
      echo "$path: SPDX-License-Identifier: $got, but its part is $want (see LICENSE)"
    fi
  done < "$list"
}

list_files() {
  if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$1" ls-files
  else
    (cd "$1" && find . -type f -not -path './build/*' -not -path './.git/*' | sed 's|^\./||')
  fi
}

list_files "$src" > "$work/files"
audit "$src" "$work/files" > "$work/problems"
count=$(while IFS= read -r p; do is_source "$p" && echo; done < "$work/files" | wc -l)
echo "$count source files audited"
[ -s "$work/problems" ] && cat "$work/problems"
check "every source file carries the SPDX identifier of its part" test ! -s "$work/problems"
check "the audit saw the tree (more than 300 source files)" test "$count" -gt 300
check "LICENSE and the license texts it names are there" \
  test -s "$src/LICENSE" -a -s "$src/LICENSES/MIT.txt" -a -s "$src/LICENSES/GPL-2.0.txt"
check "the kernel modules declare a GPL module license" \
  grep -q 'MODULE_LICENSE("GPL")' "$src/passthrough/guest/apple_dma_main.c" "$src/tests/guest/hostile/adma_hostile.c"

# The audit itself: a file without the line, and one with another part's license, are both named.
mkdir -p "$work/tree/passthrough/guest" "$work/tree/sim"
printf '// SPDX-License-Identifier: MIT\nint a;\n' > "$work/tree/passthrough/guest/x.c"
printf 'int b;\n' > "$work/tree/sim/y.cpp"
printf '// SPDX-License-Identifier: MIT\nint c;\n' > "$work/tree/sim/z.cpp"
printf 'passthrough/guest/x.c\nsim/y.cpp\nsim/z.cpp\n' > "$work/tree.list"
audit "$work/tree" "$work/tree.list" > "$work/tree.problems"
check "the audit names a module file under the wrong license" grep -q '^passthrough/guest/x.c: .*GPL-2.0' "$work/tree.problems"
check "the audit names a file with no identifier" grep -q '^sim/y.cpp: no SPDX' "$work/tree.problems"
check "the audit passes a file with the right identifier" bash -c "! grep -q '^sim/z.cpp' '$work/tree.problems'"
check_summary
