#!/usr/bin/env python3
"""Fresh-process re-time of every A/B run's result kernel (`best_trace` of each tune JSON in
DIR), ROUNDS rounds round-robin over all of them (old and new alike), with COLT_MARCH as the
runs had it. Writes DIR/retime.json ({file: [µs per round]}) and prints per layer the
median over seeds of each run's median, old and new.
Usage: retime.py DIR COLT_BINARY [ROUNDS]"""
import glob, json, os, statistics as st, subprocess, sys, tempfile

d0, colt = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
runs = {}
for f in sorted(glob.glob(f"{d0}/*-*-[0-9].json")):
    d = json.load(open(f))
    if d.get("best_trace"):
        runs[os.path.basename(f)[:-5]] = (d["workload"], d["best_trace"])
# workload specs by file prefix, from run.sh's log ("HH:MM:SS W which seed N rc=0"), so that
# shape overrides (`dense-bias-silu:M=128,K=768,N=3072`) are timed as tuned
spec = {}
if os.path.exists(f"{d0}/log.txt"):
    for line in open(f"{d0}/log.txt"):
        w = line.split()[1]
        spec[w.replace(":", "_").replace("=", "_").replace(",", "_")] = w
tmp = tempfile.mkdtemp()
times = {k: [] for k in runs}
for r in range(rounds):
    keys = list(runs)
    keys = keys[r % len(keys):] + keys[:r % len(keys)]
    for k in keys:
        w, trace = runs[k]
        path = f"{tmp}/{k}.json"
        json.dump(trace, open(path, "w"))
        wl = spec.get(k.rsplit("-", 2)[0], k.rsplit("-", 2)[0])
        out = subprocess.run([colt, "measure", "--workload", wl, "--scale", "paper", "--trace", path,
                              "--skip-baselines", "--repeats", "10", "--json"],
                             capture_output=True, text=True)
        try:
            times[k].append(json.loads(out.stdout)["best_us"])
        except (json.JSONDecodeError, KeyError):
            print(f"{k}: {out.stderr.strip()[-200:]}", file=sys.stderr)
json.dump(times, open(f"{d0}/retime.json", "w"), indent=1)
layers = {}
for k, v in times.items():
    if v:
        wl, mode, seed = k.rsplit("-", 2)
        layers.setdefault(wl, {}).setdefault(mode, []).append(st.median(v))
print("| layer | old µs median (min–max) over seeds | new µs median (min–max) | new ÷ old |")
print("|---|---|---|---|")
for wl, m in layers.items():
    if "old" in m and "new" in m:
        o, n = m["old"], m["new"]
        print(f"| {wl} | {st.median(o):.0f} ({min(o):.0f}–{max(o):.0f}) | {st.median(n):.0f} "
              f"({min(n):.0f}–{max(n):.0f}) | {st.median(n) / st.median(o):.2f} |")
