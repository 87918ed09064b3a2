"""Table of the record A/B (run.sh): per layer, old vs new medians over seeds."""
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
        'in': d['tokens_in'], 'cached': d['tokens_cached'],
        'cs': m.get('smollm2-135m', {}), 'cg': m.get('gemma-3-270m', {}),
        'share': d['large_model_share'],
    })
def med(xs):
    return st.median(xs) if xs else float('nan')
print('| layer | record | seeds | wall s | LLM s | LLM s per call | evaluated tokens per call | cached SmolLM2 / Gemma | median call s SmolLM2 / Gemma | re-timed µs | largest share |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for (w, b), rs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] != 'old')):
    def frac(k):
        return med([r[k]['tokens_cached'] / r[k]['tokens_in'] for r in rs if r[k].get('tokens_in')])
    def lat(k):
        return med([r[k]['median_latency_ms'] / 1e3 for r in rs if r[k].get('calls')])
    print(f"| {w} | {'every node named' if b == 'old' else 'others counted'} | {len(rs)} | {med([r['wall'] for r in rs]):.0f} "
          f"({min(r['wall'] for r in rs):.0f}–{max(r['wall'] for r in rs):.0f}) | {med([r['llm'] for r in rs]):.1f} | "
          f"{med([r['llm'] / r['calls'] for r in rs]):.2f} | {med([r['eval'] / r['calls'] for r in rs]):.0f} | "
          f"{frac('cs'):.0%} / {frac('cg'):.0%} | {lat('cs'):.2f} / {lat('cg'):.2f} | "
          f"{med([r['us'] for r in rs]):.0f} ({min(r['us'] for r in rs):.0f}–{max(r['us'] for r in rs):.0f}) | "
          f"{min(r['share'] for r in rs):.2f}–{max(r['share'] for r in rs):.2f} |")
