import json,sys,statistics as st
d=json.load(open(sys.argv[1]))
print("| layer (paper) | colt evolutionary µs, median (min–max) of 3 seeds | GFLOP/s | peak fraction | TVM µs | colt ÷ TVM | OpenBLAS µs | colt ÷ OpenBLAS | wall s colt (median) / TVM |")
print("|---|---|---|---|---|---|---|---|---|")
for r in d['rows']:
    e=r['strategies']['evolutionary']; b=e['best_us']
    walls=[x['wall_s'] for x in e['runs'] if x.get('wall_s')]
    f=lambda v,n=0: '–' if v is None else f"{v:.{n}f}"
    ob=r.get('openblas_us')
    print(f"| {r['workload']} | {b['median']:.0f} ({b['min']:.0f}–{b['max']:.0f}) | {f(r['colt_gflops'],1)} | {f(r['colt_peak_fraction'],2)} | {f(r['tvm_best_us'])} | {f(r['latency_ratio_vs_tvm'],2)} | {f(ob)} | {f(b['median']/ob if ob else None,2)} | {st.median(walls):.0f} / {f(r['tvm_wall_s'])} |")
print()
print("TVM pf:", [round(r['tvm_peak_fraction'],2) if r.get('tvm_peak_fraction') else None for r in d['rows']])
print("OpenBLAS pf:", [round(r['openblas_peak_fraction'],2) if r.get('openblas_peak_fraction') else None for r in d['rows']])
print("per-seed pf:", [[round(x['peak_fraction'],2) for x in r['strategies']['evolutionary']['runs'] if x.get('peak_fraction')] for r in d['rows']])
