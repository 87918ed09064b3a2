#!/usr/bin/env python3
"""The A/B table: per layer, old and new re-timed latency (median, min-max over seeds), GFLOP/s
and peak fraction against the AVX2 peak `colt machine` measured under COLT_MARCH=haswell
(machine-haswell-start.json), whether the best kernel is partitioned, and the wall time."""
import glob, json, statistics as st

peak = json.load(open("machine-haswell-start.json"))["peak_gflops"]
rows = {}
for f in sorted(glob.glob("*-[0-9]-*.json")):
    w, s, mode = f[:-5].rsplit("-", 2)
    try:
        d = json.load(open(f))
    except json.JSONDecodeError:  # a run still going
        continue
    part = any(i["inst"] == "partition" for i in d["best_trace"]["insts"])
    rows.setdefault(w, {}).setdefault(mode, []).append((int(s), d, part))
print("| layer | old µs median (min–max) | new µs median (min–max) | new ÷ old (median) | old / new peak fraction | new best partitioned (seeds) | wall s old / new |")
print("|---|---|---|---|---|---|---|")
for w, modes in rows.items():
    cell, pf, wall = {}, {}, {}
    for mode, runs in modes.items():
        us = [d["retimed_us"] for _, d, _ in runs]
        gf = [d["best_gflops"] * d["best_us"] / d["retimed_us"] for _, d, _ in runs]
        cell[mode] = f"{st.median(us):.0f} ({min(us):.0f}–{max(us):.0f})"
        pf[mode] = st.median(gf) / peak
        wall[mode] = st.median(d["command_wall_s"] for _, d, _ in runs)
    if "old" not in modes or "new" not in modes:
        continue
    ratio = st.median(d["retimed_us"] for _, d, _ in modes["new"]) / st.median(
        d["retimed_us"] for _, d, _ in modes["old"])
    parts = ",".join(str(s) for s, _, p in modes["new"] if p) or "none"
    print(f"| {w} | {cell['old']} | {cell['new']} | {ratio:.2f} | {pf['old']:.2f} / {pf['new']:.2f} | {parts} | {wall['old']:.0f} / {wall['new']:.0f} |")
