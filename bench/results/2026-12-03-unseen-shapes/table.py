#!/usr/bin/env python3
"""The table of one run.sh folder: one row per layer (one bench JSON each), colt's median
fresh-process latency over the seeds with its spread, peak fraction, TVM, OpenBLAS, ratios
and wall times. Usage: table.py DIR"""
import glob, json, statistics as st, sys

rows = []
for f in sorted(glob.glob(f"{sys.argv[1]}/*.json")):
    if "machine" in f:
        continue
    try:
        rows += json.load(open(f))["rows"]
    except (json.JSONDecodeError, KeyError):  # a layer still running
        pass
fmt = lambda v, n=0: "–" if v is None else f"{v:.{n}f}"
label = sys.argv[2] if len(sys.argv) > 2 else "AVX2 code"
print(f"| layer (paper shapes, {label}) | colt µs, median (min–max) of 3 seeds | peak fraction | TVM µs | colt ÷ TVM | OpenBLAS µs | colt ÷ OpenBLAS | wall s colt (median) / TVM |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    e = r["strategies"]["evolutionary"]
    b = e["best_us"]
    walls = [x["wall_s"] for x in e["runs"] if x.get("wall_s")]
    ob = r.get("openblas_us")
    print(f"| {r['workload']} | {b['median']:.0f} ({b['min']:.0f}–{b['max']:.0f}) | "
          f"{fmt(r['colt_peak_fraction'], 2)} | {fmt(r['tvm_best_us'])} | "
          f"{fmt(r['latency_ratio_vs_tvm'], 2)} | {fmt(ob)} | "
          f"{fmt(b['median'] / ob if ob else None, 2)} | {st.median(walls):.0f} / {fmt(r['tvm_wall_s'])} |")
print()
for r in rows:
    pf = lambda k: None if r.get(k) is None else round(r[k], 2)
    print(r["workload"], "TVM pf", pf("tvm_peak_fraction"), "OpenBLAS pf", pf("openblas_peak_fraction"),
          "per-seed pf", [round(x["peak_fraction"], 2) for x in r["strategies"]["evolutionary"]["runs"] if x.get("peak_fraction")],
          "tvm status", r.get("tvm_status"))
