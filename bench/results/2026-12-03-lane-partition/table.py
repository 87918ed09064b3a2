#!/usr/bin/env python3
"""The A/B table for one ISA folder (haswell/ or native/): per layer, old and new re-timed
latency (median, min-max over seeds), new / old, peak fraction of each median against the
peak `colt machine` measured at the start (machine-start.json), and the median wall time.
Usage: table.py DIR"""
import glob, json, statistics as st, sys

d0 = sys.argv[1]
peak = json.load(open(f"{d0}/machine-start.json"))["peak_gflops"]
rows = {}
for f in sorted(glob.glob(f"{d0}/*-*-[0-9].json")):
    w, mode, s = f[len(d0) + 1:-5].rsplit("-", 2)
    try:
        d = json.load(open(f))
    except json.JSONDecodeError:  # a run still going
        continue
    rows.setdefault(w, {}).setdefault(mode, []).append(d)
print("| layer | old µs median (min–max) | new µs median (min–max) | new ÷ old (median) | old / new peak fraction | wall s old / new |")
print("|---|---|---|---|---|---|")
for w, modes in rows.items():
    if "old" not in modes or "new" not in modes:
        continue
    cell, pf, wall, med = {}, {}, {}, {}
    for mode, runs in modes.items():
        us = [d["retimed_us"] for d in runs]
        gf = [d["best_gflops"] * d["best_us"] / d["retimed_us"] for d in runs]
        med[mode] = st.median(us)
        cell[mode] = f"{med[mode]:.0f} ({min(us):.0f}–{max(us):.0f})"
        pf[mode] = st.median(gf) / peak
        wall[mode] = st.median(d["command_wall_s"] for d in runs)
    n = min(len(modes["old"]), len(modes["new"]))
    print(f"| {w} | {cell['old']} | {cell['new']} | {med['new'] / med['old']:.2f} | "
          f"{pf['old']:.2f} / {pf['new']:.2f} | {wall['old']:.0f} / {wall['new']:.0f} |"
          + ("" if n == 3 else f" ({n} seeds so far)"))
