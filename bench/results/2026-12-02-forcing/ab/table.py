#!/usr/bin/env python3
"""Old vs new binary, per layer and seed, from the tune summaries and databases here:
wall, LLM s, calls, median call per model, output tokens (forced among them), generation
ms per call, re-timed latency, largest model's share. Usage: python3 table.py (in a folder
holding the run's old.db and new.db, which are not committed)"""
import glob, json, re, sqlite3, statistics as st

def calls(db, run):
    """Per call: model, latency ms, output tokens, forced tokens, generation ms."""
    out = []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for model, lat, tout, rec in con.execute(
            "select model, latency_ms, output_tokens, record from llm_calls where run_id=? order by seq", (run,)):
        t = (json.loads(rec).get('timing') or {}) if rec else {}
        out.append((model, lat, tout, t.get('forced_tokens', 0), t.get('gen_ms', 0.0)))
    return out

rows = []
for f in sorted(glob.glob('colt-*-s*.json')):
    m = re.match(r'(colt-old|colt-new)-(.+)-s(\d+)\.json', f)
    try:
        j = json.load(open(f))
    except ValueError:
        continue  # still running
    cs = calls(f"{m.group(1).split('-')[1]}.db", j['run'])
    med = lambda name: st.median([c[1] for c in cs if c[0] == name]) / 1000 if any(c[0] == name for c in cs) else float('nan')
    rows.append(dict(layer=m.group(2), seed=int(m.group(3)), bin=m.group(1)[5:], wall=j['wall_s'],
                     llm=j['llm_s'], calls=sum(j['llm_calls'].values()) if isinstance(j['llm_calls'], dict) else j['llm_calls'], s=med('smollm2-135m'), g=med('gemma-3-270m'),
                     tout=sum(c[2] for c in cs), forced=sum(c[3] for c in cs),
                     gen=st.median([c[4] for c in cs]) if cs else 0, us=j['retimed_us'],
                     share=j['large_model_share']))
print('| layer | seed | binary | wall s | LLM s | calls | median call s SmolLM2 / Gemma | output tokens (forced) | median generation ms a call | re-timed µs | largest share |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for r in sorted(rows, key=lambda r: (r['layer'], r['seed'], r['bin'] != 'old')):
    print(f"| {r['layer']} | {r['seed']} | {r['bin']} | {r['wall']:.0f} | {r['llm']:.1f} | {r['calls']} | {r['s']:.2f} / {r['g']:.2f} | {r['tout']} ({r['forced']}) | {r['gen']:.0f} | {r['us']:.1f} | {r['share']:.2f} |")
pairs = {}
for r in rows:
    pairs.setdefault((r['layer'], r['seed']), {})[r['bin']] = r
print()
for k, p in sorted(pairs.items()):
    if len(p) == 2:
        print(f"{k[0]} seed {k[1]}: new/old wall {p['new']['wall']/p['old']['wall']:.2f}, LLM s {p['new']['llm']/p['old']['llm']:.2f}")
