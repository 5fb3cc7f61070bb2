#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/guest_io.sh, the source of the README's guest figures, runs (one short boot per
# configuration) and reports each configuration with positive rates, and doorbells and host map
# calls only where apple_dma is loaded. Nothing about the figures' size is asserted.
set -euo pipefail
root=${1:?usage: bench_test.sh REPO}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$root/bench/guest_io.sh" --runs 1 --mib 16 --json "$out/b.json" > "$out/table.txt"
cat "$out/table.txt"
python3 - "$out/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["configuration"]: r for r in d["results"]}
assert set(rows) == {"plain", "interface 2, window_shift=18", "interface 3, window:256K"}, rows
for name, r in rows.items():
    assert r["write_mib_s"] > 0 and r["read_mib_s"] > 0, r
    if name == "plain":
        assert r["doorbells_per_mib"] is None and r["host_maps_per_mib"] is None, r
    else:
        assert r["doorbells_per_mib"] > 0 and r["host_maps_per_mib"] > 0, r
print("bench_test: ok")
PY
