import sqlite3, json, sys, statistics as st
# candidates whose parallel loop fuses a row loop of >1 iterations with a packed lane loop
for db in sys.argv[1:]:
    c = sqlite3.connect(db)
    runs = c.execute("select r.id, r.workload from runs r").fetchall()
    for rid, wl in runs:
        rows = c.execute("select trace, latency_median_us from candidates where run_id=? and latency_median_us is not null", (rid,)).fetchall()
        if not rows: continue
        best = min(l for _, l in rows)
        hit = []; other = []
        for t, l in rows:
            t = json.loads(t)
            ins = t["insts"]
            packed = {i["stage"] for i in ins if i["inst"] == "pack"}
            fused = False
            for i in ins:
                if i["inst"] == "parallel_outer" and i["n"] >= 2 and i["stage"] in packed:
                    splits = [x for x in ins if x["inst"] == "split" and x["stage"] == i["stage"]]
                    # the outer factor of a loop before the lane loop > 1 while a later one is fused
                    if len(splits) >= 2 and splits[0]["factors"][0] > 1:
                        fused = True
            (hit if fused else other).append(l / best)
        print(db.split('/')[-2], wl, rid, "n", len(rows), "fused-packed", len(hit), "median x best", round(st.median(hit),1) if hit else None, "others", round(st.median(other),1))
