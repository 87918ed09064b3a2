"""The closing table of issue 15 from this directory's per-layer `colt bench` JSONs."""
import glob, json, os, statistics as st

ORDER = ["llama3-8b-attention", "flux-attention", "llama4-scout-mlp", "deepseek-r1-moe",
         "flux-conv", "matmul", "mlp-up-proj", "depthwise-conv", "rmsnorm", "gemv"]
here = os.path.dirname(os.path.abspath(__file__))
f = lambda v, n=0: "–" if v is None else f"{v:.{n}f}"
print("| layer (paper, AVX2 code) | colt µs, median (min–max) of 3 seeds | peak fraction (per seed) | TVM µs | colt ÷ TVM | OpenBLAS µs | colt ÷ OpenBLAS | TVM / OpenBLAS peak fraction | wall s colt (median) / TVM |")
print("|---|---|---|---|---|---|---|---|---|")
for w in ORDER:
    p = os.path.join(here, w + ".json")
    if not os.path.exists(p) or os.path.getsize(p) == 0:
        print(f"| {w} | not run | | | | | | | |")
        continue
    for r in json.load(open(p))["rows"]:
        e = r["strategies"]["evolutionary"]; b = e["best_us"]
        walls = [x["wall_s"] for x in e["runs"] if x.get("wall_s")]
        pfs = "/".join(f(x.get("peak_fraction"), 2) for x in e["runs"])
        ob = r.get("openblas_us")
        print(f"| {r['workload']} | {b['median']:.0f} ({b['min']:.0f}–{b['max']:.0f}) | "
              f"{f(r['colt_peak_fraction'], 2)} ({pfs}) | {f(r['tvm_best_us'])} | "
              f"{f(r['latency_ratio_vs_tvm'], 2)} | {f(ob)} | {f(b['median'] / ob if ob else None, 2)} | "
              f"{f(r.get('tvm_peak_fraction'), 2)} / {f(r.get('openblas_peak_fraction'), 2)} | "
              f"{st.median(walls):.0f} / {f(r['tvm_wall_s'])} |")
