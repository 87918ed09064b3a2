"""Table of the five-layer bench (run.sh): bench.json (the bench's own output) and
llm_calls.csv (every LLM call of the COLT runs, from the bench's database)."""
import csv, json, statistics as st, os
os.chdir(os.path.dirname(os.path.abspath(__file__)))
rows = json.load(open('bench.json'))['rows']
calls = list(csv.DictReader(open('llm_calls.csv')))
def med(xs):
    return st.median(xs)
def rng(xs, f='.0f'):
    return f"{med(xs):{f}} ({min(xs):{f}}–{max(xs):{f}})"
print('| layer | evolutionary µs | colt µs | colt ÷ evo (median µs) | wall s evo / colt (median) | colt wall ÷ evo wall per seed | calls per run | median call s SmolLM2 / Gemma | cached SmolLM2 / Gemma (pooled; per run min) |')
print('|---|---|---|---|---|---|---|---|---|')
allc = {}
for r in rows:
    w = r['workload']
    evo = {x['seed']: x for x in r['strategies']['evolutionary']['runs']}
    col = {x['seed']: x for x in r['strategies']['colt']['runs']}
    eu = [x['best_us'] for x in evo.values()]
    cu = [x['best_us'] for x in col.values()]
    ratios = [col[s]['wall_s'] / evo[s]['wall_s'] for s in sorted(col)]
    lat = {}
    for c in calls:
        if c['workload'] == w:
            lat.setdefault(c['model'], []).append(float(c['latency_ms']) / 1e3)
    cached = {}
    for x in col.values():
        for m, v in x['models'].items():
            t = cached.setdefault(m, [0, 0, []])
            t[0] += v['tokens_cached']; t[1] += v['tokens_in']; t[2].append(v['tokens_cached'] / v['tokens_in'])
            a = allc.setdefault(m, [0, 0, []])
            a[0] += v['tokens_cached']; a[1] += v['tokens_in']; a[2].append(v['tokens_cached'] / v['tokens_in'])
    s_, g_ = 'smollm2-135m', 'gemma-3-270m'
    print(f"| {w} | {rng(eu)} | {rng(cu)} | {med(cu) / med(eu):.2f} | {med([x['wall_s'] for x in evo.values()]):.0f} / {med([x['wall_s'] for x in col.values()]):.0f} | "
          f"{', '.join(f'{q:.1f}×' for q in ratios)} | {'/'.join(str(col[s]['llm_calls']) for s in sorted(col))} | "
          f"{med(lat[s_]):.2f} / {med(lat[g_]):.2f} | {cached[s_][0] / cached[s_][1]:.0%}; {min(cached[s_][2]):.0%} / {cached[g_][0] / cached[g_][1]:.0%}; {min(cached[g_][2]):.0%} |")
allcalls = {}
for c in calls:
    allcalls.setdefault(c['model'], []).append(float(c['latency_ms']) / 1e3)
for m, (c, i, per) in allc.items():
    print(f"{m}: cached {c / i:.1%} of {i} prompt tokens over {len(per)} runs (per run {min(per):.0%}–{max(per):.0%}); median call {med(allcalls[m]):.2f} s over {len(allcalls[m])} calls")
