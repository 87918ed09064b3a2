"""COLT over seeds 1-3: seed 1 from ../colt.json, seeds 2-3 from this folder's tune JSONs."""
import glob, json, os, statistics as st
from math import exp, log
os.chdir(os.path.dirname(os.path.abspath(__file__)))
runs = {}
for r in json.load(open('../colt.json'))['rows']:
    runs.setdefault(r['program'], {})[1] = (r['ratio'], r['text_ratio'], r['calls'], r['wall_s'])
for f in sorted(glob.glob('*-[0-9].json')):
    if not os.path.getsize(f):
        continue
    name, seed = f[:-5].rsplit('-', 1)
    d = json.load(open(f))
    oz, ozt = d['baselines']['clang -Oz'], d['baseline_text_bytes']['clang -Oz']
    calls = sum(d['llm_calls'].values())
    runs.setdefault(name, {})[int(seed)] = (d['best'] / oz, d['best_text_bytes'] / ozt, calls, d['wall_s'])
evo = {}
for r in json.load(open('../evolutionary.json'))['rows']:
    evo.setdefault(r['program'], []).append(r['ratio'])
print('| program | colt IR ÷ -Oz, seeds 1/2/3 | median | evolutionary median | colt .text ÷ -Oz (median) | calls | wall s |')
print('|---|---|---|---|---|---|---|')
meds, tmeds, emeds = [], [], []
for p in sorted(runs):
    rs = [runs[p][s] for s in sorted(runs[p])]
    m = st.median(r[0] for r in rs); t = st.median(r[1] for r in rs); e = st.median(evo[p])
    meds.append(m); tmeds.append(t); emeds.append(e)
    print(f"| {p} | {' / '.join(f'{r[0]:.3f}' for r in rs)} | {m:.3f} | {e:.3f} | {t:.3f} | "
          f"{', '.join(str(r[2]) for r in rs)} | {', '.join(f'{r[3]:.0f}' for r in rs)} |")
g = lambda xs: exp(sum(map(log, xs)) / len(xs))
print(f'| **geometric mean of medians** | | **{g(meds):.3f}** | **{g(emeds):.3f}** | **{g(tmeds):.3f}** | | |')
