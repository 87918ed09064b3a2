#!/usr/bin/env python3
"""Schedule pairs of matmul 1024^3 with AVX2 code (pairs*.sh output, pairs*.txt): per tile
shape, the median (min-max) over rounds of fresh-process `colt measure` and its ratio to
numpy/OpenBLAS (Haswell kernels) timed in the same round. Usage: table.py"""
import collections, glob, re, statistics as st

lat = collections.defaultdict(list)
ratio = collections.defaultdict(list)
for f in sorted(glob.glob("pairs*.txt")):
    rounds = collections.defaultdict(dict)
    for line in open(f):
        m = re.match(r"(\d+) (\S+) (.*)", line.strip())
        if not m:
            continue
        r, v, rest = m.groups()
        m2 = re.search(r"'best_us': ([0-9.]+)", rest)
        try:
            us = float(m2.group(1)) if m2 else float(rest)
        except ValueError:
            continue
        rounds[r][v] = us
    for vs in rounds.values():
        for v, us in vs.items():
            lat[v].append(us)
            if v != "openblas" and "openblas" in vs:
                ratio[v].append(us / vs["openblas"])
print("| tile (rows × 8-lane vectors) | rounds | µs median (min–max) | GFLOP/s | ÷ OpenBLAS same round (median) |")
print("|---|---|---|---|---|")
for v, l in sorted(lat.items(), key=lambda kv: st.median(kv[1])):
    rr = f"{st.median(ratio[v]):.2f}" if ratio[v] else "–"
    print(f"| {v} | {len(l)} | {st.median(l):.0f} ({min(l):.0f}–{max(l):.0f}) | {2 * 1024**3 / st.median(l) / 1e3:.0f} | {rr} |")
