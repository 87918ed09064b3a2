#!/bin/bash
# A/B of branch next-register-unroll vs main: evolutionary, 64 trials, paper scale, interleaved by seed.
cd /work/main
DB=/tmp/ab2/ab.db
for w in $WORKLOADS; do
  for s in 1 2 3; do
    for arm in branch main; do
      /tmp/ab2/colt-$arm tune --workload $w --scale paper --strategy evolutionary --trials 64 --seed $s --db $DB --json > /tmp/ab2/$w-$s-$arm.json 2> /tmp/ab2/$w-$s-$arm.err
      python3 - "$w" "$s" "$arm" <<'PY'
import json,sys
w,s,m=sys.argv[1:]
d=json.load(open(f"/tmp/ab2/{w}-{s}-{m}.json"))
print(w,s,m,"best",d.get("best_us"),"retimed",d.get("retimed_us"),"pf",d.get("peak_fraction"),"wall",round(d.get("command_wall_s",0)),flush=True)
PY
    done
  done
done
