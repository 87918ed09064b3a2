#!/bin/bash
# A/B of accumulator promotion across unrolled reduction blocks (+ gcc keeping the promoted
# copies as loops): evolutionary search, 64 trials, paper scale, seeds 1-3, old/new
# interleaved with the order swapped every seed, one database per binary and ISA.
# old = release build of 6f7ebbe (/tmp/t20/colt-old), new = 9e549b3 (/tmp/t20/colt-new).
# 2-core AMD EPYC Zen 5, nothing else running.
# Usage: run.sh ISA WORKLOAD...   (ISA: haswell = COLT_MARCH=haswell, AVX2 code; native = AVX-512)
cd "$(dirname "$0")"
isa=$1; shift
if [ "$isa" = haswell ]; then export COLT_MARCH=haswell; else unset COLT_MARCH; fi
mkdir -p $isa
/tmp/t20/colt-new machine --remeasure --db /tmp/t20/m-$isa.db --json > $isa/machine-start.json
for w in "$@"; do
  for s in 1 2 3; do
    if [ $((s % 2)) = 1 ]; then order="new old"; else order="old new"; fi
    for mode in $order; do
      $( [ $mode = new ] && echo /tmp/t20/colt-new || echo /tmp/t20/colt-old ) tune --workload $w \
        --scale paper --strategy evolutionary --trials 64 --seed $s \
        --db /tmp/t20/ab-$isa-$mode.db --json > $isa/$w-$s-$mode.json 2> /tmp/t20/$isa-$w-$s-$mode.err
      python3 - "$isa/$w-$s-$mode.json" <<'PY'
import json,sys
d=json.load(open(sys.argv[1]))
print(sys.argv[1],"best",d.get("best_us"),"retimed",d.get("retimed_us"),"wall",round(d.get("command_wall_s",0)),flush=True)
PY
    done
  done
done
/tmp/t20/colt-new machine --remeasure --db /tmp/t20/m-$isa.db --json > $isa/machine-end.json
