#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README cannot go stale (issue 14, items 15 and 16): every figure it quotes from a dartlab run
# is made again by scripts/readme-figures.sh and must match; and the README and docs/ stand alone,
# never pointing outside the repository.
# Usage: readme_figures.sh DARTLAB_BINARY SOURCE_DIR
set -uo pipefail
dartlab=$1
src=$2
source "$src/tests/cli/expect.sh"

expect "every figure block of the README is what dartlab prints now" 0 "" -- \
  "$src/scripts/readme-figures.sh" "$dartlab" --check "$src/README.md"
blocks=$(grep -c '^<!-- figures:[a-z]* -->$' "$src/README.md")
check "the README has its figure blocks ($blocks)" -- test "$blocks" -ge 6
# A stale figure is caught: change one digit of a block and the check fails.
stale=$work/README.md
sed '/^<!-- figures:demo -->$/,/^<!-- \/figures:demo -->$/ s/  4176 /  4177 /' "$src/README.md" >"$stale"
expect "the change took" 1 "" -- cmp -s "$src/README.md" "$stale"
expect "a changed figure is caught" 1 "block 'demo' of .* is stale" -- \
  "$src/scripts/readme-figures.sh" "$dartlab" --check "$stale"
# The project stands alone: facts it relies on are in docs/, with sources.
for f in "$src/README.md" "$src"/docs/*.md; do
  if grep -nE '\.\./shared|/work/shared' "$f"; then echo "FAIL: $f points outside the repository"; failed=$((failed + 1)); else passed=$((passed + 1)); fi
done
for doc in BACKGROUND DESIGN REAL-SYSTEM; do
  check "docs/$doc.md is there" -- test -s "$src/docs/$doc.md"
  check "the README links docs/$doc.md" -- grep -q "](docs/$doc.md" "$src/README.md"
done
check "the background names its sources" -- grep -q '^## Sources' "$src/docs/BACKGROUND.md"
# Links between the docs and from the README to them resolve to a file.
for link in $(grep -ohE '\]\((docs/)?[A-Z-]+\.md(#[a-z0-9_-]+)?\)' "$src/README.md" "$src"/docs/*.md | sed -E 's/^\]\(//; s/\)$//; s/#.*//' | sort -u); do
  [ -e "$src/$link" ] || [ -e "$src/docs/$link" ] || { echo "FAIL: a link to $link leads nowhere"; failed=$((failed + 1)); }
done

finish
