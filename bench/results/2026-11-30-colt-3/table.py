import json, sys, statistics as st
rows = json.load(open(sys.argv[1]))
L, S = 'gemma-3-270m', 'smollm2-135m'
def label(r):
    if r['strategy'] == 'single-llm':
        ms = list(r['models']); return f"single-llm:{ms[0]}" if len(ms) == 1 else 'single-llm'
    if r['strategy'] == 'colt' and len(r['models']) == 1: return 'colt-homogeneous'
    return r['strategy']
g = {}
for r in rows: g.setdefault((r['workload'], label(r)), {})[r['seed']] = r
def med(xs): xs=[x for x in xs if x is not None]; return st.median(xs) if xs else float('nan')
def rng(xs): return f"{med(xs):.0f} ({min(xs):.0f}–{max(xs):.0f})"
def mm(rs, name, key):
    return med([r['models'].get(name, {}).get(key) for r in rs])
def cached(rs, name):
    tin = sum(r['models'].get(name, {}).get('tin', 0) for r in rs); ca = sum(r['models'].get(name, {}).get('cached', 0) for r in rs)
    return 100*ca/tin if tin else float('nan')
print("| layer | evolutionary µs | colt µs | Gemma alone µs | colt ÷ Gemma (median) | wall s: evo / colt / Gemma | colt wall ÷ evo | colt wall ÷ Gemma | median call s: SmolLM2 / Gemma in colt / Gemma alone | cached: SmolLM2 / Gemma in colt / Gemma alone | wasted (colt, 3 seeds) | largest share | Gemma tokens: colt ÷ alone | USD colt / Gemma alone |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
summary = []
for wl in dict.fromkeys(r['workload'] for r in rows):
    ev = list(g.get((wl, 'evolutionary'), {}).values()); co = list(g.get((wl, 'colt'), {}).values()); ge = list(g.get((wl, f'single-llm:{L}'), {}).values())
    if not (ev and co and ge): continue
    lat = lambda rs: [r['retimed_us'] for r in rs]
    wall = lambda rs: med([r['wall_s'] for r in rs])
    ratio = med(lat(co)) / med(lat(ge))
    wasted = sum(r['wasted'] for r in co); calls = sum(r['calls'] for r in co)
    causes = {}
    for r in co:
        for k, v in (r['wasted_by'] or {}).items(): causes[k] = causes.get(k, 0) + v
    shares = [r['share'] for r in co]
    gt_c = sum(r['models'].get(L, {}).get('tin', 0) for r in co); gt_a = sum(r['models'].get(L, {}).get('tin', 0) for r in ge)
    usd_c = med([r['usd'] for r in co]); usd_g = med([r['usd'] for r in ge])
    summary.append(dict(workload=wl, ratio=ratio, colt_wall_over_evo=wall(co)/wall(ev), colt_wall_over_gemma=wall(co)/wall(ge), wasted=wasted, calls=calls))
    print(f"| {wl} | {rng(lat(ev))} | {rng(lat(co))} | {rng(lat(ge))} | {ratio:.2f} | {wall(ev):.0f} / {wall(co):.0f} / {wall(ge):.0f} | {wall(co)/wall(ev):.1f}× | {wall(co)/wall(ge):.2f}× | "
          f"{mm(co,S,'med')/1000:.1f} / {mm(co,L,'med')/1000:.1f} / {mm(ge,L,'med')/1000:.1f} | {cached(co,S):.0f}% / {cached(co,L):.0f}% / {cached(ge,L):.0f}% | "
          f"{wasted}/{calls} ({', '.join(f'{k} {v}' for k,v in sorted(causes.items()))}) | {min(shares):.2f}–{max(shares):.2f} | {gt_c/gt_a:.2f} | {usd_c:.4f} / {usd_g:.4f} |")
json.dump(summary, open(sys.argv[2], 'w'), indent=1) if len(sys.argv) > 2 else None
