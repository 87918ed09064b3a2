#!/usr/bin/env python3
"""A/B table of run.sh (the runs/ databases, not committed, are in ~/.cache/colt/bench-dbs/2026-12-02-stem/ on the machine that ran it): per workload and arm, the command's wall time, the LLM time, the
first call of each model, the evaluated prompt tokens and the result."""
import json, os, sqlite3, statistics as st

def first_calls(db, run):
    q = ("select model, latency_ms, input_tokens, cached_tokens from llm_calls "
         "where run_id=? order by seq")
    seen = {}
    for m, lat, tin, tc in sqlite3.connect(db).execute(q, (run,)):
        seen.setdefault(m, (lat / 1e3, tin - tc))
    return seen

print("| workload | arm | wall s | LLM s | calls | first call s SmolLM2 / Gemma (evaluated tokens) | evaluated tokens | cached (SmolLM2 / Gemma) | result |")
print("|---|---|---|---|---|---|---|---|---|")
order = [l.split()[0] for l in open("order.txt")] if os.path.exists("order.txt") else None
names = sorted({f.rsplit("-", 1)[0] for f in os.listdir("runs") if f.endswith(".json")},
               key=lambda n: (not n.startswith("llvm"), n))
tot = {"old": [0, 0], "new": [0, 0]}
for n in names:
    for arm in ("old", "new"):
        path = f"runs/{n}-{arm}.json"
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            continue
        v = json.load(open(path))
        wall = float(open(f"runs/{n}-{arm}.time").read().split()[-1])
        ms = v.get("models", {})
        llm_s = sum(m["latency_ms"] for m in ms.values()) / 1e3
        calls = sum(m["calls"] for m in ms.values())
        ev = sum(m["tokens_evaluated"] for m in ms.values())
        tin = sum(m["tokens_in"] for m in ms.values())
        tc = sum(m["tokens_cached"] for m in ms.values())
        per = " / ".join(f'{ms[m]["tokens_cached"] / max(ms[m]["tokens_in"], 1):.0%}' if m in ms else "–"
                         for m in ("smollm2-135m", "gemma-3-270m"))
        fc = first_calls(f"runs/{arm}.db", v["run"])
        first = " / ".join(f"{fc[m][0]:.1f} ({fc[m][1]})" if m in fc else "–"
                           for m in ("smollm2-135m", "gemma-3-270m"))
        if n.startswith("llvm"):
            res = f"IR ÷ -Oz {v['best'] / v['baselines']['clang -Oz']:.3f}"
        else:
            res = f"{v.get('retimed_us') or v.get('best_us'):.1f} µs"
        tot[arm][0] += wall
        tot[arm][1] += llm_s
        print(f"| {n} | {arm} | {wall:.0f} | {llm_s:.0f} | {calls} | {first} | {ev} | {tc / max(tin, 1):.0%} ({per}) | {res} |")
print(f"\nTotal wall s: old {tot['old'][0]:.0f}, new {tot['new'][0]:.0f}; LLM s: old {tot['old'][1]:.0f}, new {tot['new'][1]:.0f}")
