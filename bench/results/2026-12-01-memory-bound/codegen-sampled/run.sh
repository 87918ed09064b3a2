#!/bin/bash
# Codegen A/B: the same 32 sampled schedules per workload and seed, compiled without (branch) and with (promote) accumulator promotion.
SCALE=${SCALE:-ci}
for w in $WORKLOADS; do
  for s in 1 2; do
    for arm in branch promote; do
      /tmp/ab3/colt-$arm measure --workload $w --scale $SCALE --random ${N:-32} --seed $s --json --repeats 5 > $w-$SCALE-$s-$arm.json 2>/dev/null
      python3 - "$w-$SCALE-$s-$arm.json" <<'PY'
import json,sys
d=json.load(open(sys.argv[1])); print(sys.argv[1], d.get("best_us"), d.get("outcomes"), flush=True)
PY
    done
  done
done
