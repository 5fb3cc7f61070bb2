# SPDX-License-Identifier: MIT
"""Prints bench/table.sh's measurements as a Markdown table: one row per measure, one column per
build (the first is the build under test, the second the baseline), the median over the runs, and
the ratio that each row is about. Usage: table_print.py RESULTS BUILDS EVENTS RUNS [SHORT]"""
import statistics
import sys
from collections import defaultdict

results, builds, events, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
short = int(sys.argv[5]) if len(sys.argv) > 5 else 1  # the decode and replay rows' figures per run
values = defaultdict(list)
with open(results) as f:
    for line in f:
        row, build, value = line.rstrip("\n").split("\t")
        if value:
            values[(row, int(build))].append(float(value))


def get(row, build):
    v = values.get((row, build))
    return statistics.median(v) if v else None


def fmt(v, unit):
    return "n/a" if v is None else f"{v:.2f}{unit}" if unit != " %" else f"{v:.3f}%"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def sweep_best(build):
    walls = [w for w in (get(f"sweep_jobs1_group{g}", build) for g in (2, 5, 10, 20)) if w is not None]
    return min(walls) if walls else None


# (label, value per build, unit, higher is better, derived ratio text per build)
rows = []
def add(label, fn, unit, higher=True, note=None):
    rows.append((label, [fn(b) for b in range(builds)], unit, higher, [note(b) if note else "" for b in range(builds)]))


add("binary trace, decode only (M events/s)", lambda b: get("decode", b), "")
add("core: mapper + functional DART, window:256K (M events/s)", lambda b: get("BM_CoreWindow256K", b), "")
add("replay engine over in-memory events (M events/s)", lambda b: get("BM_ReplayEngine", b), "",
    note=lambda b: fmt(ratio(get("BM_ReplayEngine", b), get("BM_CoreWindow256K", b)), "x core"))
add("`dartlab replay` of the binary trace, window:256K (M events/s)", lambda b: get("replay", b), "",
    note=lambda b: fmt(ratio(get("replay", b), get("decode", b)), "x decode"))
for name, label in (("BM_CoreDirect", "first-fit"), ("BM_CoreDirectBestFit", "best-fit"),
                    ("BM_CoreDirectBuddy", "buddy"), ("BM_CoreDirectLinux", "linux")):
    add(f"core under direct, {label} (M events/s)", lambda b, n=name: get(n, b), "")
add("20-point sweep, one core, best group (s)", sweep_best, "", higher=False,
    note=lambda b: fmt(None if sweep_best(b) is None else 20 * events / sweep_best(b) / 1e6, " M config-events/s"))
add("20-point sweep, --jobs 2 (s)", lambda b: get("sweep_jobs2", b), "", higher=False,
    note=lambda b: fmt(ratio(sweep_best(b), get("sweep_jobs2", b)), "x one core"))
add("timed platform, per-TLP (M transactions/s)", lambda b: get("timed_tlp", b), "",
    note=lambda b: fmt(ratio(get("timed_tlp", b), get("timed_bare", b)), "x bare quantum keeper"))
add("timed: bare quantum-keeper loop (M/s)", lambda b: get("timed_bare", b), "")
add("timed: burst vs per-TLP, largest difference", lambda b: get("timed_differ", b), " %", higher=False)

print(f"{events} generated game events, median of {runs} run(s) per figure"
      + (f" ({runs * short} for the decode and replay rows, {short} in each run)" if short > 1 else ""))
if builds == 1:
    print("| measure | value | ratio |\n|---|---|---|")
    for label, vals, unit, _, notes in rows:
        print(f"| {label} | {fmt(vals[0], unit)} | {notes[0]} |")
else:
    print("| measure | before | after | after vs before |\n|---|---|---|---|")
    for label, vals, unit, higher, notes in rows:
        after, before = vals[0], vals[1]
        gain = ratio(after, before) if higher else ratio(before, after)
        speed = "" if unit == " %" else fmt(gain, "x")
        b_text = fmt(before, unit) + (f" ({notes[1]})" if notes[1] else "")
        a_text = fmt(after, unit) + (f" ({notes[0]})" if notes[0] else "")
        print(f"| {label} | {b_text} | {a_text} | {speed} |")
