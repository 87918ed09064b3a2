"""Issue 12 table of run.sh's bench (Gemma loaded as Q4_0), from the bench database.
Usage: python3 table.py bench.db [runs.json]"""
import json, sqlite3, statistics as st, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
L, S = 'gemma-3-270m', 'smollm2-135m'
runs = []
for rid, wl, strat, seed, summ in db.execute(
        "select id, workload, strategy, seed, summary from runs where summary is not null order by id"):
    s = json.loads(summ)
    models = {}
    for m, rep in (s.get('models') or {}).items():
        lat = [r[0] for r in db.execute(
            "select latency_ms from llm_calls where run_id=? and model=?", (rid, m))]
        models[m] = dict(calls=rep.get('calls', 0), tin=rep.get('tokens_in', 0),
                         cached=rep.get('tokens_cached', 0), tout=rep.get('tokens_out', 0),
                         lat=lat)
    label = strat
    if strat == 'single-llm':
        label = 'single-llm:' + next(iter(models), '?')
    elif strat == 'colt' and len(models) == 1:
        label = 'colt-homogeneous'
    runs.append(dict(run=rid, workload=wl, label=label, seed=seed,
                     retimed_us=s.get('retimed_us') or s.get('best_us'), wall_s=s.get('wall_s'),
                     llm_s=s.get('llm_s') or 0.0, models=models, wasted=s.get('wasted_calls', 0),
                     wasted_by=s.get('wasted_by_cause') or {},
                     calls=sum(m['calls'] for m in models.values()),
                     share=s.get('large_model_share'), usd=s.get('cost_usd', 0.0),
                     effective=s.get('effective_strategy')))
if len(sys.argv) > 2:
    json.dump(runs, open(sys.argv[2], 'w'), indent=1)

def med(xs):
    xs = [x for x in xs if x is not None]
    return st.median(xs) if xs else float('nan')
def spread(xs):
    xs = [x for x in xs if x is not None]
    return f"{med(xs):.0f} ({min(xs):.0f}–{max(xs):.0f})" if xs else '-'
def calls_med(rs, name):
    lat = [x for r in rs for x in r['models'].get(name, {}).get('lat', [])]
    return med(lat) / 1000 if lat else float('nan')
def cached(rs, name):
    tin = sum(r['models'].get(name, {}).get('tin', 0) for r in rs)
    ca = sum(r['models'].get(name, {}).get('cached', 0) for r in rs)
    return 100 * ca / tin if tin else float('nan')

g = {}
for r in runs:
    g.setdefault((r['workload'], r['label']), []).append(r)
layers = list(dict.fromkeys(r['workload'] for r in runs))

print("Issue 12: colt against evolutionary, same layer and seed")
print()
print("| layer | evolutionary µs | colt µs | colt ÷ evo (median µs) | wall s evo / colt (median) | colt wall ÷ evo wall per seed | LLM s (colt, median) | calls per run | median call s: SmolLM2 / Gemma | cached: SmolLM2 / Gemma |")
print("|---|---|---|---|---|---|---|---|---|---|")
for wl in layers:
    ev, co = g.get((wl, 'evolutionary'), []), g.get((wl, 'colt'), [])
    if not (ev and co):
        continue
    by_seed = {r['seed']: r for r in ev}
    ratios = [r['wall_s'] / by_seed[r['seed']]['wall_s'] for r in co if r['seed'] in by_seed]
    lat = lambda rs: [r['retimed_us'] for r in rs]
    print(f"| {wl} | {spread(lat(ev))} | {spread(lat(co))} | {med(lat(co)) / med(lat(ev)):.2f} | "
          f"{med([r['wall_s'] for r in ev]):.0f} / {med([r['wall_s'] for r in co]):.0f} | "
          f"{', '.join(f'{x:.1f}×' for x in ratios)} | {med([r['llm_s'] for r in co]):.0f} | "
          f"{'/'.join(str(r['calls']) for r in co)} | {calls_med(co, S):.2f} / {calls_med(co, L):.2f} | "
          f"{cached(co, S):.0f}% / {cached(co, L):.0f}% |")


allco = [r for rs in g.values() for r in rs if r['label'] == 'colt']
print()
print(f"all colt runs: median call SmolLM2 {calls_med(allco, S):.2f} s, Gemma {calls_med(allco, L):.2f} s; "
      f"cached SmolLM2 {cached(allco, S):.0f}%, Gemma {cached(allco, L):.0f}%")
