#!/bin/sh
# The same sampled QK^T schedules (same seeds: the samplers differ only in the lane tail),
# best of N measured by each binary, interleaved. Usage: qk-random.sh OLD NEW OUTDIR N
OLD=$1; NEW=$2; OUT=$3; N=$4; mkdir -p "$OUT"
for W in qk77 qk100 qk197; do
  for seed in 1 2; do
    for which in old new; do
      if [ "$which" = old ]; then B=$OLD; else B=$NEW; fi
      "$B" measure --workload "$W.toml" --random "$N" --seed "$seed" --skip-baselines --json \
        > "$OUT/$W-$which-$seed.json" 2> "$OUT/$W-$which-$seed.err"
      echo "$(date -u +%H:%M:%S) $W $which seed $seed rc=$?" >> "$OUT/log.txt"
    done
  done
done
