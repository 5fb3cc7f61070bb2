#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the benchmarks of another revision, for before/after tables measured in one run:
#   make bench BASELINE=e31b024      (bench/run.sh then measures both builds alternately)
# The revision's tree is exported with git archive under build/baseline/REV (never a worktree:
# the checkout stays as it is), configured with its own release preset, and only dartlab and the
# bench executables are built. Cached: a second call reuses the build. Prints the build directory.
# Usage: bench/baseline.sh REV
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 REV" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
sha=$(git -C "$root" rev-parse --verify --quiet "$1^{commit}") || { echo "baseline: no commit named '$1'" >&2; exit 1; }
dir=$root/build/baseline/${sha:0:12}
if [ ! -f "$dir/src/CMakePresets.json" ]; then
  rm -rf "$dir" && mkdir -p "$dir/src"
  git -C "$root" archive "$sha" | tar -x -C "$dir/src"
fi
echo "baseline: building ${sha:0:12} in $dir (dartlab and the benchmarks only)" >&2
(cd "$dir/src" && cmake --preset release >/dev/null &&
  cmake --build --preset release --target dartlab dartlab_bench dartlab_parse_bench dartlab_timed_bench >&2)
echo "$dir/src/build/release"
