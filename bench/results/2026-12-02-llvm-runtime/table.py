#!/usr/bin/env python3
"""Per-program table of the runtime bench: re-timed ratio to clang -O3 per seed, median, geomean."""
import csv, math, statistics as st, collections, sys
rows = collections.defaultdict(list)
walls = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "evolutionary.csv")):
    if r["status"] == '"ok"' or r["status"] == "ok":
        rows[r["program"]].append(float(r["ratio"]))
        walls[r["program"]].append(float(r["wall_s"]))
print("| program | re-timed ÷ clang -O3, seeds 1/2/3 | median | wall s (median) |")
print("|---|---|---|---|")
meds = []
for p, v in rows.items():
    m = st.median(v)
    meds.append(m)
    print(f"| {p} | {' / '.join(f'{x:.3f}' for x in v)} | {m:.3f} | {st.median(walls[p]):.1f} |")
g = math.exp(st.mean(math.log(m) for m in meds))
allg = math.exp(st.mean(math.log(x) for v in rows.values() for x in v))
print(f"| **geometric mean of medians** | | **{g:.3f}** | |")
print(f"\n(geometric mean over all {sum(map(len, rows.values()))} runs: {allg:.3f})")
