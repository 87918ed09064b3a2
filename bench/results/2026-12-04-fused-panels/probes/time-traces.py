import json, os, statistics as st, subprocess, sys
colt="/work/main/target/release/colt"; wl=sys.argv[1]; names=sys.argv[2].split(","); rounds=int(sys.argv[3])
march=os.environ.get("MARCH","haswell")
times={}
for r in range(rounds):
    ks=names[r%len(names):]+names[:r%len(names)]
    for k in ks:
        env=dict(os.environ, COLT_MARCH=march)
        out=subprocess.run([colt,"measure","--workload",wl,"--scale","paper","--trace",f"/tmp/ord/{k}.json","--skip-baselines","--repeats","10","--json"],capture_output=True,text=True,env=env)
        try: us=json.loads(out.stdout)["best_us"]
        except Exception: print(k,out.stderr[-300:],flush=True); continue
        times.setdefault(k,[]).append(us); print(r,k,round(us),flush=True)
for k in names:
    a=times.get(k,[])
    if a: print(f"{k}: median {st.median(a):.0f} ({min(a):.0f}-{max(a):.0f})")
