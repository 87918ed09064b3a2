#!/bin/sh
# QK^T alone (spec files), old and new interleaved, seeds 1..4, AVX-512 code.
# Usage: qk-run.sh OLD NEW OUTDIR
OLD=$1; NEW=$2; OUT=$3; mkdir -p "$OUT"
for W in qk77 qk100 qk197; do
  for seed in 1 2 3 4; do
    if [ $((seed % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for which in $order; do
      if [ "$which" = old ]; then B=$OLD; else B=$NEW; fi
      "$B" tune --workload "$W.toml" --strategy evolutionary --trials 64 --seed "$seed" \
        --db "$OUT/$which.db" --json > "$OUT/$W-$which-$seed.json" 2> "$OUT/$W-$which-$seed.err"
      echo "$(date -u +%H:%M:%S) $W $which seed $seed rc=$?" >> "$OUT/log.txt"
    done
  done
done
