#!/bin/bash
# A/B of the partitioned register tiles (AVX2 rows that divide no loop extent) with AVX2 only
# on an AVX-512 machine: COLT_MARCH=haswell (kernels and the machine probe compiled for
# Haswell: 8 lanes, 16 vector registers). Evolutionary search, 64 trials, paper scale, seeds
# 1-3, old/new interleaved with the order swapped every seed, one database per binary.
# old = release build of 25f42f9 (/tmp/t18/colt-new), new = this change (/tmp/t19/colt-part).
# 2-core AMD EPYC Zen 5, nothing else running. Usage: run.sh WORKLOAD...
cd "$(dirname "$0")"
export COLT_MARCH=haswell
for w in "$@"; do
  for s in 1 2 3; do
    if [ $((s % 2)) = 1 ]; then order="new old"; else order="old new"; fi
    for mode in $order; do
      if [ $mode = new ]; then BIN=/tmp/t19/colt-part; else BIN=/tmp/t18/colt-new; fi
      $BIN tune --workload $w --scale paper --strategy evolutionary --trials 64 --seed $s \
        --db /tmp/t19/ab-$mode.db --json > $w-$s-$mode.json 2> /tmp/t19/$w-$s-$mode.err
      python3 - "$w" "$s" "$mode" <<'PY'
import json,sys
w,s,m=sys.argv[1:]
d=json.load(open(f"{w}-{s}-{m}.json"))
print(w,s,m,"best",d.get("best_us"),"retimed",d.get("retimed_us"),"pf",d.get("peak_fraction"),"wall",round(d.get("command_wall_s",0)),flush=True)
PY
    done
  done
done
