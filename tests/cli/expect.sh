# SPDX-License-Identifier: MIT
# Shared by the command-line test scripts: `source` it. It makes $work, a scratch directory removed
# on exit. expect NAME EXIT_CODE PATTERN -- COMMAND...: the command exits with EXIT_CODE and its
# stdout+stderr match the extended regex PATTERN. `check NAME -- COMMAND...`: the command
# succeeds (a plain assertion: test, cmp, grep). Both count into $passed and $failed; `finish`
# prints the tally and returns non-zero on any failure.
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL: $name: exit $rc, expected $code"; echo "$out" | head -20; failed=$((failed + 1)); return
  fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then
    echo "FAIL: $name: output does not match /$pattern/"; echo "$out" | head -20; failed=$((failed + 1)); return
  fi
  passed=$((passed + 1))
}

check() {
  local name=$1
  shift 2
  if "$@" >/dev/null 2>&1; then
    passed=$((passed + 1))
  else
    echo "FAIL: $name"; failed=$((failed + 1))
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
