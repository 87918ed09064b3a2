"""Table of the tried-children A/B (run.sh): per layer, old vs new medians over seeds, and the
cached share of each model pooled over every run of a side."""
import glob, json, statistics as st, os
os.chdir(os.path.dirname(os.path.abspath(__file__)))
rows = {}
for f in sorted(glob.glob('*-[0-9]-*.json')):
    w, s, b = f[:-5].rsplit('-', 2)
    try:
        d = json.load(open(f))
    except ValueError:
        continue
    m = d['models']
    rows.setdefault((w, b), []).append({
        'seed': s, 'wall': d['wall_s'], 'llm': d['llm_s'], 'us': d['retimed_us'],
        'calls': sum(d['llm_calls'].values()),
        'eval': sum(v['tokens_evaluated'] for v in m.values()),
        'cs': m.get('smollm2-135m', {}), 'cg': m.get('gemma-3-270m', {}),
    })
def med(xs):
    return st.median(xs) if xs else float('nan')
def rng(xs, f='.0f'):
    return f"{med(xs):{f}} ({min(xs):{f}}–{max(xs):{f}})"
print('| layer | question | seeds | wall s | LLM s per call | evaluated tokens per call | cached SmolLM2 / Gemma (pooled) | median call s SmolLM2 / Gemma | re-timed µs |')
print('|---|---|---|---|---|---|---|---|---|')
for (w, b), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] != 'old')):
    def frac(k):
        i = sum(r[k].get('tokens_in', 0) for r in rs)
        return sum(r[k].get('tokens_cached', 0) for r in rs) / i if i else float('nan')
    def lat(k):
        return med([r[k]['median_latency_ms'] / 1e3 for r in rs if r[k].get('calls')])
    print(f"| {w} | {'every child named' if b == 'old' else 'others counted'} | {len(rs)} | {rng([r['wall'] for r in rs])} | "
          f"{med([r['llm'] / r['calls'] for r in rs]):.2f} | {med([r['eval'] / r['calls'] for r in rs]):.0f} | "
          f"{frac('cs'):.0%} / {frac('cg'):.0%} | {lat('cs'):.2f} / {lat('cg'):.2f} | {rng([r['us'] for r in rs])} |")
for b in ('old', 'new'):
    tot = {}
    per_run = {}
    for (w, bb), rs in rows.items():
        if bb != b:
            continue
        for r in rs:
            for k, name in (('cs', 'SmolLM2'), ('cg', 'Gemma')):
                if r[k].get('tokens_in'):
                    t = tot.setdefault(name, [0, 0])
                    t[0] += r[k]['tokens_cached']; t[1] += r[k]['tokens_in']
                    per_run.setdefault(name, []).append(r[k]['tokens_cached'] / r[k]['tokens_in'])
    print(f"{b}: " + ', '.join(f"{n} cached {c / i:.1%} pooled, per run median {med(per_run[n]):.0%} min {min(per_run[n]):.0%}" for n, (c, i) in tot.items()))
