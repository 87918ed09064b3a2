#!/usr/bin/env python3
"""Both batches together (seeds 1-3 in native/, old = 4ee-binary, new = first sampler;
seeds 4-6 in native2/, new = final sampler): per layer, the median re-timed latency of
every seed of each binary, and per seed the ratio new / old of the same seed.
Usage: combined.py DIR..."""
import glob, json, statistics as st, sys
rows = {}
for d0 in sys.argv[1:]:
    for f in sorted(glob.glob(f"{d0}/*-*-[0-9].json")):
        w, mode, s = f[len(d0) + 1:-5].rsplit("-", 2)
        try:
            d = json.load(open(f))
        except json.JSONDecodeError:
            continue
        rows.setdefault(w, {}).setdefault(mode, {})[(d0, s)] = d["retimed_us"]
print("| layer | seeds | old µs median | new µs median | new ÷ old, per seed (median; min–max) |")
print("|---|---|---|---|---|")
for w, m in sorted(rows.items()):
    both = sorted(set(m.get("old", {})) & set(m.get("new", {})))
    if not both:
        continue
    r = [m["new"][k] / m["old"][k] for k in both]
    print(f"| {w} | {len(both)} | {st.median(m['old'][k] for k in both):.0f} | "
          f"{st.median(m['new'][k] for k in both):.0f} | {st.median(r):.2f}; {min(r):.2f}–{max(r):.2f} |")
