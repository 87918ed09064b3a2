"""The 3-seed table of the COLT experiment from a bench database: per layer, the median
re-timed latency (and spread) of evolutionary, colt (SmolLM2 + Gemma) and Gemma alone,
wall times, per-model median call latency and cache share, wasted calls, the largest
model's share, Gemma's tokens in colt over Gemma alone, and USD at the bench's stand-in
prices. Usage: python3 table.py DB [runs.json]"""
import json, sqlite3, statistics as st, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
L, S = 'gemma-3-270m', 'smollm2-135m'
runs = []
for rid, wl, strat, seed, summ in db.execute("select id, workload, strategy, seed, summary from runs where summary is not null order by id"):
    s = json.loads(summ)
    models = {}
    for m, rep in (s.get('models') or {}).items():
        lat = [r[0] for r in db.execute("select latency_ms from llm_calls where run_id=? and model=?", (rid, m))]
        models[m] = dict(calls=rep.get('calls', 0), tin=rep.get('tokens_in', 0), cached=rep.get('tokens_cached', 0),
                         med=st.median(lat) if lat else None)
    label = strat
    if strat == 'single-llm':
        label = 'single-llm:' + next(iter(models), '?') if len(models) == 1 else strat
    elif strat == 'colt' and len(models) == 1:
        label = 'colt-homogeneous'
    runs.append(dict(run=rid, workload=wl, label=label, seed=seed, retimed_us=s.get('retimed_us') or s.get('best_us'),
                     wall_s=s.get('wall_s'), models=models, wasted=s.get('wasted_calls', 0),
                     wasted_by=s.get('wasted_by_cause') or {}, calls=sum(s.get('llm_calls', {}).values()),
                     share=s.get('large_model_share'), usd=s.get('cost_usd', 0.0), effective=s.get('effective_strategy')))
if len(sys.argv) > 2:
    json.dump(runs, open(sys.argv[2], 'w'), indent=1)

def med(xs):
    xs = [x for x in xs if x is not None]
    return st.median(xs) if xs else float('nan')
def spread(xs):
    xs = [x for x in xs if x is not None]
    return f"{med(xs):.0f} ({min(xs):.0f}–{max(xs):.0f})" if xs else '-'
def mm(rs, name):
    return med([r['models'].get(name, {}).get('med') for r in rs]) / 1000
def cached(rs, name):
    tin = sum(r['models'].get(name, {}).get('tin', 0) for r in rs)
    ca = sum(r['models'].get(name, {}).get('cached', 0) for r in rs)
    return 100 * ca / tin if tin else float('nan')

g = {}
for r in runs:
    g.setdefault((r['workload'], r['label']), []).append(r)
print("| layer | evolutionary µs | colt µs | Gemma alone µs | colt ÷ Gemma (median) | wall s: evo / colt / Gemma | colt wall ÷ evo | colt wall ÷ Gemma | median call s: SmolLM2 / Gemma in colt / Gemma alone | cached: SmolLM2 / Gemma in colt / Gemma alone | wasted (colt, all seeds) | largest share | Gemma tokens: colt ÷ alone | USD colt / Gemma alone |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for wl in dict.fromkeys(r['workload'] for r in runs):
    ev, co, ge = g.get((wl, 'evolutionary'), []), g.get((wl, 'colt'), []), g.get((wl, f'single-llm:{L}'), [])
    if not (ev and co and ge):
        print(f"| {wl} | (incomplete: {len(ev)} evo, {len(co)} colt, {len(ge)} Gemma runs) |")
        continue
    lat = lambda rs: [r['retimed_us'] for r in rs]
    wall = lambda rs: med([r['wall_s'] for r in rs])
    causes = {}
    for r in co:
        for k, v in r['wasted_by'].items():
            causes[k] = causes.get(k, 0) + v
    shares = [r['share'] for r in co]
    gt_c = sum(r['models'].get(L, {}).get('tin', 0) for r in co)
    gt_a = sum(r['models'].get(L, {}).get('tin', 0) for r in ge)
    print(f"| {wl} | {spread(lat(ev))} | {spread(lat(co))} | {spread(lat(ge))} | {med(lat(co)) / med(lat(ge)):.2f} | "
          f"{wall(ev):.0f} / {wall(co):.0f} / {wall(ge):.0f} | {wall(co) / wall(ev):.1f}× | {wall(co) / wall(ge):.2f}× | "
          f"{mm(co, S):.2f} / {mm(co, L):.2f} / {mm(ge, L):.2f} | {cached(co, S):.0f}% / {cached(co, L):.0f}% / {cached(ge, L):.0f}% | "
          f"{sum(r['wasted'] for r in co)}/{sum(r['calls'] for r in co)} ({', '.join(f'{k} {v}' for k, v in sorted(causes.items())) or 'none'}) | "
          f"{min(shares):.2f}–{max(shares):.2f} | {gt_c / gt_a:.2f} | {med([r['usd'] for r in co]):.4f} / {med([r['usd'] for r in ge]):.4f} |")
