#!/bin/bash
# A/B: new (2-row register tiles, blocked register tiles, accumulator promotion in codegen) vs main; evolutionary, 64 trials, paper scale, interleaved by seed; one database.
DB=/tmp/ab5/ab.db
/tmp/ab3/colt-new machine --db $DB --json > /tmp/ab5/machine-start.json 2>/dev/null
for w in $WORKLOADS; do
  for s in 1 2 3; do
    for arm in new main; do
      B=/tmp/ab3/colt-$arm; [ $arm = main ] && B=/tmp/colt-base
      $B tune --workload $w --scale paper --strategy evolutionary --trials 64 --seed $s --db $DB --json > /tmp/ab5/$w-$s-$arm.json 2> /tmp/ab5/$w-$s-$arm.err
      python3 - "$w" "$s" "$arm" <<'PY'
import json,sys
w,s,m=sys.argv[1:]
d=json.load(open(f"/tmp/ab5/{w}-{s}-{m}.json"))
print(w,s,m,"best",d.get("best_us"),"retimed",d.get("retimed_us"),"pf",d.get("peak_fraction"),"wall",round(d.get("command_wall_s",0)),flush=True)
PY
    done
  done
done
