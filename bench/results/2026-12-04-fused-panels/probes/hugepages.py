import json, os, statistics as st, subprocess, sys
colt = "/work/main/target/release/colt"
d0 = sys.argv[1]; names = sys.argv[2].split(","); rounds = int(sys.argv[3])
times = {}
for r in range(rounds):
    for k in names:
        wl = k.rsplit("-", 2)[0]
        trace = json.load(open(f"{d0}/{k}.json"))["best_trace"]
        json.dump(trace, open(f"/tmp/hp/{k}.trace.json", "w"))
        for hp in (["0", "1"] if r % 2 == 0 else ["1", "0"]):
            env = dict(os.environ, COLT_HUGEPAGES=hp, COLT_MARCH="haswell")
            out = subprocess.run([colt, "measure", "--workload", wl, "--scale", "paper", "--trace", f"/tmp/hp/{k}.trace.json",
                                  "--skip-baselines", "--repeats", "10", "--json"], capture_output=True, text=True, env=env)
            try:
                us = json.loads(out.stdout)["best_us"]
            except Exception:
                print(k, out.stderr[-300:]); continue
            times.setdefault((k, hp), []).append(us)
            print(r, k, hp, round(us), flush=True)
for k in names:
    a, b = times.get((k, "0"), []), times.get((k, "1"), [])
    if a and b:
        print(f"{k}: 4K median {st.median(a):.0f} ({min(a):.0f}-{max(a):.0f})  huge median {st.median(b):.0f} ({min(b):.0f}-{max(b):.0f})  ratio {st.median(b)/st.median(a):.2f}")
