#!/usr/bin/env python3
"""Per seed: each model's cached share inside COLT (seed 1 starts with a cold prompt-state
store for every configuration), and each embedded model's prompt-evaluation rate and
generation per call over all calls of the bench (from the calls' timing records).
Usage: python3 extra.py bench.db"""
import json, sqlite3, statistics as st, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print('| layer | seed | SmolLM2 cached | Gemma cached | Gemma calls | Gemma first call: cached tokens |')
print('|---|---|---|---|---|---|')
for rid, wl, seed in db.execute("select id, workload, seed from runs where strategy='colt' and summary is not null order by workload, seed"):
    per = {}
    for model, tin, cached, seq in db.execute("select model, input_tokens, cached_tokens, seq from llm_calls where run_id=? order by seq", (rid,)):
        p = per.setdefault(model, [0, 0, 0, None])
        p[0] += tin; p[1] += cached; p[2] += 1
        if p[3] is None:
            p[3] = cached
    if len(per) < 2:
        continue  # colt-homogeneous
    s, g = per.get('smollm2-135m'), per.get('gemma-3-270m')
    f = lambda p: f"{100 * p[1] / p[0]:.0f}%" if p and p[0] else '–'
    print(f"| {wl} | {seed} | {f(s)} | {f(g)} | {g[2] if g else 0} | {g[3] if g else '–'} |")
print()
print('| model | calls | prompt tokens/s (evaluated ÷ prompt time, calls with ≥ 50 evaluated) | median generation ms a call | output tokens forced |')
print('|---|---|---|---|---|')
for model in ['smollm2-135m', 'gemma-3-270m']:
    rates, gen, tout, forced, n = [], [], 0, 0, 0
    for tok_out, rec in db.execute("select output_tokens, record from llm_calls where model=?", (model,)):
        t = (json.loads(rec).get('timing') or {}) if rec else {}
        if not t:
            continue
        n += 1
        if t.get('evaluated_tokens', 0) >= 50 and t.get('prompt_ms', 0) > 0:
            rates.append(t['evaluated_tokens'] / t['prompt_ms'] * 1000)
        gen.append(t.get('gen_ms', 0))
        tout += tok_out; forced += t.get('forced_tokens', 0)
    if n:
        print(f"| {model} | {n} | {st.median(rates):.0f} (median) | {st.median(gen):.0f} | {forced}/{tout} ({100*forced/max(tout,1):.0f}%) |")
