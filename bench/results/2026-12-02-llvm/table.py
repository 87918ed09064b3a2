"""Per-program table of run.sh's two bench invocations (evolutionary.json, colt.json)."""
import json, os, statistics as st
from math import exp, log
os.chdir(os.path.dirname(os.path.abspath(__file__)))
rows = []
for f in ('evolutionary.json', 'colt.json'):
    if os.path.exists(f) and os.path.getsize(f):
        rows += json.load(open(f))['rows']
progs = sorted({r['program'] for r in rows})
strats = [s for s in ('evolutionary', 'colt') if any(r['strategy'] == s for r in rows)]
def sel(p, s):
    return [r for r in rows if r['program'] == p and r['strategy'] == s and r['status'] == 'ok']
print('| program | ' + ' | '.join(f'{s}: IR ÷ -Oz (seeds) | {s}: .text ÷ -Oz' for s in strats) + ' | colt calls | colt tokens in (cached) / out | colt wall s | evolutionary wall s |')
print('|---|' + '---|---|' * len(strats) + '---|---|---|---|')
gm = {s: ([], []) for s in strats}
for p in progs:
    cells = []
    for s in strats:
        rs = sel(p, s)
        ir = [r['ratio'] for r in rs]
        tx = [r['text_ratio'] for r in rs]
        if ir:
            gm[s][0].append(st.median(ir)); gm[s][1].append(st.median(tx))
        cells.append(', '.join(f'{x:.3f}' for x in ir) or '–')
        cells.append(f'{st.median(tx):.3f}' if tx else '–')
    c = sel(p, 'colt')
    e = sel(p, 'evolutionary')
    calls = ', '.join(str(r['calls']) for r in c) or '–'
    toks = ', '.join(f"{r['tokens_in']} ({r['tokens_cached']}) / {r['tokens_out']}" for r in c) or '–'
    cw = ', '.join(f"{r['wall_s']:.0f}" for r in c) or '–'
    ew = f"{st.median([r['wall_s'] for r in e]):.1f}" if e else '–'
    print(f'| {p} | ' + ' | '.join(cells) + f' | {calls} | {toks} | {cw} | {ew} |')
g = lambda xs: exp(sum(log(x) for x in xs) / len(xs)) if xs else float('nan')
print('| **geometric mean** | ' + ' | '.join(f'**{g(gm[s][0]):.3f}** | **{g(gm[s][1]):.3f}**' for s in strats) + ' | | | | |')
