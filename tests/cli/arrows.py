#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The house's arrows: which folder may include which. Every quoted #include in a source file
must point into its own part or into a part its row allows; docs/ARCHITECTURE.md draws the same
table. CMake's target_link_libraries follows these arrows too, but one include path serves the
whole tree, so a forbidden include would still compile: this check is what fails.

Usage: arrows.py SOURCE_DIR        (exit 1 and one line per forbidden include)
       arrows.py --self-test
"""
import os
import re
import sys

# part (longest prefix wins) -> parts it may include besides itself. Standard and Debian
# library headers (<...>) are not arrows.
ALLOWED = {
    "base/": [],
    "models/tlm/": [],
    "models/dart/": ["base/", "models/tlm/"],
    "models/dart/tlm/": ["base/", "models/dart/", "models/tlm/"],
    "models/thunderbolt/": ["base/", "models/tlm/"],
    "models/thunderbolt/tlm/": ["base/", "models/thunderbolt/", "models/tlm/"],
    "passthrough/mapper/": ["base/"],
    "passthrough/backends/": ["base/", "passthrough/mapper/", "models/dart/"],
    "passthrough/qemu/core/": ["base/", "passthrough/mapper/", "passthrough/backends/", "models/dart/"],
    "traces/": ["base/"],
    "sim/common/": ["base/"],
    "sim/replay/": ["base/", "sim/common/", "traces/", "passthrough/mapper/", "passthrough/backends/", "models/dart/"],
    "sim/sweep/": ["base/", "sim/common/", "traces/", "passthrough/mapper/", "passthrough/backends/", "models/dart/", "sim/replay/"],
    "sim/stress/": ["base/", "sim/common/", "traces/", "passthrough/mapper/", "passthrough/backends/", "models/dart/", "sim/replay/"],
    "sim/timed/": ["base/", "sim/common/", "traces/", "passthrough/mapper/", "passthrough/backends/", "models/dart/", "sim/replay/", "models/"],
    # The report reads results (JSON), never an engine or a model.
    "sim/report/": ["base/", "sim/common/"],
    "sim/stats/": ["base/", "sim/common/", "traces/"],
    "sim/cli/": ["base/", "sim/common/", "traces/", "passthrough/mapper/", "passthrough/backends/", "models/dart/", "sim/", "models/"],
}
# Not parts of the shipped house: they may reach anything.
FREE = ("tests/", "bench/", "passthrough/guest/", "passthrough/qemu/hw/", "build/", "scripts/")
SOURCE = re.compile(r"\.(c|h|cpp|hpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def part_of(path):
    best = None
    for part in ALLOWED:
        if path.startswith(part) and (best is None or len(part) > len(best)):
            best = part
    return best


def audit(root, files):
    problems = []
    for path in files:
        if path.startswith(FREE) or not SOURCE.search(path):
            continue
        part = part_of(path)
        if part is None:
            problems.append(f"{path}: in no part of the house (add its row to tests/cli/arrows.py)")
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if "/" not in target:  # a sibling header
                    continue
                target_part = part_of(target)
                if target_part is None or target_part == part:
                    continue
                if not any(target.startswith(a) for a in ALLOWED[part]):
                    problems.append(f"{path}:{number}: includes {target}: {part} may not depend on {target_part}")
    return problems


def tree_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", "build")]
        for name in filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        def put(path, text):
            os.makedirs(os.path.dirname(os.path.join(d, path)), exist_ok=True)
            open(os.path.join(d, path), "w").write(text)
        put("models/dart/a.cpp", '#include "passthrough/mapper/mapper.hpp"\n#include "base/types.hpp"\n')
        put("passthrough/mapper/b.cpp", '#include "base/flat_map.hpp"\n#include "passthrough/mapper/x.hpp"\n')
        put("sim/report/c.cpp", '#include "models/dart/dart.hpp"\n')
        put("tests/d.cpp", '#include "models/dart/dart.hpp"\n')
        put("models/dart/e.cpp", '#include "models/dart/tlm/dart_tlm.hpp"\n')
        got = audit(d, tree_files(d))
        want = ["models/dart/a.cpp:1:", "sim/report/c.cpp:1:", "models/dart/e.cpp:1:"]
        ok = len(got) == 3 and all(any(g.startswith(w) for g in got) for w in want)
        print("self-test:", "ok" if ok else f"FAILED: {got}")
        return ok


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(0 if self_test() else 1)
    root = sys.argv[1]
    files = tree_files(root)
    problems = audit(root, files)
    for p in problems:
        print(p)
    print(f"{sum(1 for f in files if SOURCE.search(f))} sources checked, {len(problems)} forbidden includes")
    sys.exit(1 if problems else 0)
