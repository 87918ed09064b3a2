#!/bin/sh
# Interleaved A/B of the lane-loop partition (register tiles for lane loops that no vector
# width divides, with a whole-vector overlapping tail): old and new colt binaries, one
# database per binary, seeds 1..3, the order swapped every seed.
# TRIALS (default 64) trials per run; later A/Bs use it too.
# Usage: [SEEDS="4 5 6"] [TRIALS=256] run.sh OLD NEW OUTDIR ISA(haswell|native) WORKLOAD...
set -u
OLD=$1; NEW=$2; OUT=$3; ISA=$4; shift 4
mkdir -p "$OUT"
[ "$ISA" = haswell ] && export COLT_MARCH=haswell
lscpu > "$OUT/lscpu.txt"
"$NEW" machine --json > "$OUT/machine-start.json"
for W in "$@"; do
  f=$(echo "$W" | tr ':=,' '___')
  for seed in ${SEEDS:-1 2 3}; do
    if [ $((seed % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for which in $order; do
      if [ "$which" = old ]; then B=$OLD; else B=$NEW; fi
      "$B" tune --workload "$W" --scale paper --strategy evolutionary --trials "${TRIALS:-64}" --seed "$seed" \
        --db "$OUT/$which.db" --json > "$OUT/$f-$which-$seed.json" 2> "$OUT/$f-$which-$seed.err"
      echo "$(date -u +%H:%M:%S) $W $which seed $seed rc=$?" >> "$OUT/log.txt"
    done
  done
done
"$NEW" machine --json > "$OUT/machine-end.json"
