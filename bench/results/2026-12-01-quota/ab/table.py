"""The same-session A/B of the per-round call quota (old = 397ead8, new = a29bf6b) and λ,
from the JSON summaries this folder's run.sh wrote. Usage: python3 table.py"""
import glob, json, re, statistics as st

rows = {}
for f in sorted(glob.glob('*-s[0-9].json')):
    m = re.match(r'(evolutionary|colt-old|colt-new|colt-lambda0\.25|colt-lambda0)-(.+)-s(\d)\.json', f)
    if not m:
        continue
    try:
        d = json.load(open(f))
    except json.JSONDecodeError:
        continue
    label, wl, seed = m.group(1), m.group(2), int(m.group(3))
    models = d.get('models') or {}
    rows[(wl, seed, label)] = dict(
        us=d.get('retimed_us') or d.get('best_us'), wall=d['wall_s'], llm=d.get('llm_s') or 0.0,
        calls=sum(x['calls'] for x in models.values()),
        share=d.get('large_model_share'),
        med={k: x.get('median_latency_ms', 0) / 1000 for k, x in models.items()})
print("| layer | seed | evolutionary µs / wall s | colt old µs / wall s / LLM s / calls | colt new µs / wall s / LLM s / calls | new ÷ old wall | old ÷ evo wall | new ÷ evo wall |")
print("|---|---|---|---|---|---|---|---|")
for (wl, seed) in sorted({(k[0], k[1]) for k in rows}):
    e, o, n = (rows.get((wl, seed, x)) for x in ('evolutionary', 'colt-old', 'colt-new'))
    if not (e and o and n):
        continue
    print(f"| {wl} | {seed} | {e['us']:.0f} / {e['wall']:.0f} | {o['us']:.0f} / {o['wall']:.0f} / {o['llm']:.0f} / {o['calls']} | "
          f"{n['us']:.0f} / {n['wall']:.0f} / {n['llm']:.0f} / {n['calls']} | {n['wall'] / o['wall']:.2f} | "
          f"{o['wall'] / e['wall']:.1f}× | {n['wall'] / e['wall']:.1f}× |")
print()
print("| layer (seed 1) | λ = 0 µs / share | λ = 0.25 µs / share | λ = 0.5 (new) µs / share |")
print("|---|---|---|---|")
for wl in sorted({k[0] for k in rows}):
    cells = []
    for lab in ('colt-lambda0', 'colt-lambda0.25', 'colt-new'):
        r = rows.get((wl, 1, lab))
        cells.append(f"{r['us']:.0f} / {r['share']:.2f}" if r else '-')
    print(f"| {wl} | " + " | ".join(cells) + " |")
