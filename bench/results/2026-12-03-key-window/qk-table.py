#!/usr/bin/env python3
"""QK^T alone: per spec, old and new re-timed latency per seed, medians and new / old per seed.
Usage: qk-table.py DIR"""
import glob, json, statistics as st, sys
d0 = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f"{d0}/*-*-[0-9].json")):
    w, mode, s = f[len(d0) + 1:-5].rsplit("-", 2)
    try:
        d = json.load(open(f))
    except json.JSONDecodeError:
        continue
    rows.setdefault(w, {}).setdefault(mode, {})[s] = d["retimed_us"]
print("| QKᵀ | old µs per seed | new µs per seed | old / new median | new ÷ old per seed, median (min–max) |")
print("|---|---|---|---|---|")
for w, m in rows.items():
    seeds = sorted(set(m.get("old", {})) & set(m.get("new", {})))
    if not seeds:
        continue
    o = [m["old"][s] for s in seeds]
    n = [m["new"][s] for s in seeds]
    r = [b / a for a, b in zip(o, n)]
    print(f"| {w} | {' / '.join(f'{x:.0f}' for x in o)} | {' / '.join(f'{x:.0f}' for x in n)} | "
          f"{st.median(o):.0f} / {st.median(n):.0f} | {st.median(r):.2f} ({min(r):.2f}–{max(r):.2f}) |")
