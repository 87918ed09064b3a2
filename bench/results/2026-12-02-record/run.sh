#!/bin/bash
# A/B of the batched record lines: old = /tmp/colt-bench (6169d2f), new = /tmp/colt-new
# (one line per batch of measurements). 64-trial colt tunes, interleaved, on two layers and
# three seeds, after one 16-trial warm-up of each binary per layer (each prefix's prompt
# state stored, so neither side pays for a cold store).
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
for w in flux-conv llama4-scout-mlp; do
  for b in old new; do
    bin=/tmp/colt-bench; [ $b = new ] && bin=/tmp/colt-new
    $bin tune --workload $w --strategy colt --trials 16 --seed 9 --db warm-$b.db --json > /dev/null 2>&1
  done
done
for s in 1 2 3; do
  for w in flux-conv llama4-scout-mlp; do
    order="old new"; [ $((s % 2)) = 0 ] && order="new old"
    for b in $order; do
      bin=/tmp/colt-bench; [ $b = new ] && bin=/tmp/colt-new
      $bin tune --workload $w --strategy colt --trials 64 --seed $s --db ab-$b.db --json > $w-$s-$b.json 2> $w-$s-$b.err
    done
  done
done
date -u +%FT%TZ > ended.txt
