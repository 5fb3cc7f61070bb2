# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared by the shell tests: a counted check and the closing line ctest and CI read.
#   . tests/support/check.sh
#   check "NAME (a sentence about behaviour)" COMMAND...   # passes when COMMAND succeeds
#   check_summary                                          # prints "N passed, N failed"; fails if any did
passed=0
failed=0

check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $name"; failed=$((failed + 1)); fi
}

check_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
