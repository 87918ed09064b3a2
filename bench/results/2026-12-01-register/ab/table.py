import sys,statistics as st,collections
rows=collections.defaultdict(lambda: collections.defaultdict(list))
for l in open(sys.argv[1]):
    p=l.split()
    if len(p)<10: continue
    w,s,m=p[0],p[1],p[2]; r=float(p[6]); pf=float(p[8]) if p[8]!='None' else None; wall=float(p[10])
    rows[w][m].append((r,pf,wall))
print("| layer | prior on: median µs (min–max) | peak fraction | prior off: median µs (min–max) | peak fraction | off ÷ on |")
print("|---|---|---|---|---|---|")
for w,d in rows.items():
    def f(m):
        xs=d.get(m,[]); 
        if not xs: return None,"-","-"
        r=[x[0] for x in xs]; pf=[x[1] for x in xs if x[1] is not None]
        return st.median(r), f"{st.median(r):.0f} ({min(r):.0f}–{max(r):.0f})", (f"{st.median(pf):.2f}" if pf else "-")
    a,at,ap=f("on"); b,bt,bp=f("off")
    print(f"| {w} | {at} | {ap} | {bt} | {bp} | {b/a:.2f} |" if a and b else f"| {w} | {at} | {ap} | {bt} | {bp} | - |")
