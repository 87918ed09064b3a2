"""Issue 15's strategy table at paper scale from this directory's per-layer `colt bench` JSONs:
random, evolutionary and mcts (64 trials x 3 seeds each) beside TVM MetaSchedule at 64 trials
and numpy/OpenBLAS, all timed in the same fresh-process final rounds."""
import json, os, statistics as st

ORDER = ["llama3-8b-attention", "flux-attention", "llama4-scout-mlp", "deepseek-r1-moe",
         "flux-conv", "matmul"]
STRATS = ["random", "evolutionary", "mcts"]
here = os.path.dirname(os.path.abspath(__file__))
f = lambda v, n=0: "–" if v is None else f"{v:.{n}f}"
print("| layer (paper, AVX2 code) | " + " | ".join(f"{s} µs, median (min–max)" for s in STRATS)
      + " | TVM µs | " + " | ".join(f"{s} ÷ TVM" for s in STRATS)
      + " | OpenBLAS µs | peak fraction " + " / ".join(STRATS)
      + " | wall s (median) " + " / ".join(STRATS) + " / TVM |")
print("|---" * (3 + 2 * len(STRATS) + 3) + "|")
for w in ORDER:
    p = os.path.join(here, w + ".json")
    if not os.path.exists(p) or os.path.getsize(p) == 0:
        print(f"| {w} | not run |")
        continue
    for r in json.load(open(p))["rows"]:
        cells, ratios, pfs, walls = [], [], [], []
        for s in STRATS:
            e = r["strategies"].get(s)
            if not e or not e.get("best_us"):
                cells.append("–"); ratios.append("–"); pfs.append("–"); walls.append("–")
                continue
            b = e["best_us"]
            cells.append(f"{b['median']:.0f} ({b['min']:.0f}–{b['max']:.0f})")
            tvm = r.get("tvm_best_us")
            ratios.append(f(b["median"] / tvm if tvm else None, 2))
            pfs.append(f(e.get("peak_fraction"), 2))
            ws = [x["wall_s"] for x in e["runs"] if x.get("wall_s")]
            walls.append(f"{st.median(ws):.0f}" if ws else "–")
        print(f"| {r['workload']} | " + " | ".join(cells) + f" | {f(r.get('tvm_best_us'))} | "
              + " | ".join(ratios) + f" | {f(r.get('openblas_us'))} | " + " / ".join(pfs)
              + " | " + " / ".join(walls) + f" / {f(r.get('tvm_wall_s'))} |")
