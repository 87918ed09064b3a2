"""Per-program table of run.sh's bench runs (bundled.json, outside.json): IR and .text ratios
to clang -Oz per seed and their medians for evolutionary and colt, colt's calls, tokens and
wall time, and the geometric means of the medians (the bundled programs and the two outside
ones apart)."""
import json, os, statistics as st
from math import exp, log
os.chdir(os.path.dirname(os.path.abspath(__file__)))
g = lambda xs: exp(sum(log(x) for x in xs) / len(xs)) if xs else float('nan')
for f in ('bundled.json', 'outside.json'):
    if not (os.path.exists(f) and os.path.getsize(f)):
        continue
    rows = json.load(open(f))['rows']
    progs = sorted({r['program'] for r in rows})
    sel = lambda p, s: sorted((r for r in rows if r['program'] == p and r['strategy'] == s and r['status'] == 'ok'), key=lambda r: r['seed'])
    print(f'\n{f}\n')
    print('| program | evolutionary IR ÷ -Oz, seeds 1/2/3 | median | colt IR ÷ -Oz, seeds 1/2/3 | median | .text ÷ -Oz evo / colt (medians) | colt calls | colt tokens in (cached) / out, median | wall s evo / colt (medians) |')
    print('|---|---|---|---|---|---|---|---|---|')
    gm = {k: [] for k in ('ei', 'ci', 'et', 'ct')}
    for p in progs:
        e, c = sel(p, 'evolutionary'), sel(p, 'colt')
        med = lambda rs, k: st.median([r[k] for r in rs]) if rs else None
        ei, ci, et, ct = med(e, 'ratio'), med(c, 'ratio'), med(e, 'text_ratio'), med(c, 'text_ratio')
        for k, v in zip(('ei', 'ci', 'et', 'ct'), (ei, ci, et, ct)):
            if v is not None:
                gm[k].append(v)
        fmt = lambda v: f'{v:.3f}' if v is not None else '–'
        seeds = lambda rs: ' / '.join(f"{r['ratio']:.3f}" for r in rs) or '–'
        calls = ', '.join(str(r['calls']) for r in c) or '–'
        toks = (f"{st.median([r['tokens_in'] for r in c]):.0f} ({st.median([r['tokens_cached'] for r in c]):.0f}) / {st.median([r['tokens_out'] for r in c]):.0f}") if c else '–'
        wall = f"{med(e, 'wall_s'):.1f} / {med(c, 'wall_s'):.0f}" if (c and e) else '–'
        print(f'| {p} | {seeds(e)} | {fmt(ei)} | {seeds(c)} | {fmt(ci)} | {fmt(et)} / {fmt(ct)} | {calls} | {toks} | {wall} |')
    print(f"| **geometric mean of medians** | | **{g(gm['ei']):.3f}** | | **{g(gm['ci']):.3f}** | **{g(gm['et']):.3f}** / **{g(gm['ct']):.3f}** | | | |")
    allc = [r for r in rows if r['strategy'] == 'colt' and r['status'] == 'ok']
    if allc:
        tin, tc = sum(r['tokens_in'] for r in allc), sum(r['tokens_cached'] for r in allc)
        print(f"\ncolt: {len(allc)} runs, {min(r['calls'] for r in allc)}–{max(r['calls'] for r in allc)} calls a run, "
              f"{tin} prompt tokens ({100 * tc / tin:.0f}% cached), largest-model share "
              f"{min(r['large_model_share'] for r in allc):.2f}–{max(r['large_model_share'] for r in allc):.2f}, "
              f"all runs' IR geomean {g([r['ratio'] for r in allc]):.3f}")
