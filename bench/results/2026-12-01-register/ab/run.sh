#!/bin/bash
# A/B of the register-tile prior: evolutionary, 64 trials, paper scale, interleaved by seed.
cd /work/main
BIN=./target/release/colt
DB=/tmp/ab/ab.db
for w in $WORKLOADS; do
  for s in 1 2 3; do
    for mode in on off; do
      extra=""; [ $mode = off ] && extra="--no-register-prior"
      $BIN tune --workload $w --scale paper --strategy evolutionary --trials 64 --seed $s --db $DB --json $extra > /tmp/ab/$w-$s-$mode.json 2> /tmp/ab/$w-$s-$mode.err
      python3 - "$w" "$s" "$mode" <<'PY'
import json,sys
w,s,m=sys.argv[1:]
d=json.load(open(f"/tmp/ab/{w}-{s}-{m}.json"))
print(w,s,m,"best",d.get("best_us"),"retimed",d.get("retimed_us"),"pf",d.get("peak_fraction"),"wall",round(d.get("command_wall_s",0)),flush=True)
PY
    done
  done
done
