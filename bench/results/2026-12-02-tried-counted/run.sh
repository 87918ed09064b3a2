#!/bin/bash
# A/B of the question's tried children: old = /tmp/t18/colt-base (51c6928: every tried child
# named with proposer, predicted and measured), new = /tmp/t18/colt-new (children with steps
# named with their steps and time; mutations, samples and older ones counted with their range).
# 64-trial colt tunes on the five model layers (CI scale), seeds 1-3, interleaved (order swapped
# every seed); both binaries read the same stored prompt states (~/.cache/colt/kv), warmed by
# one 64-trial run of each layer with the old binary first.
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
W="llama3-8b-attention llama4-scout-mlp deepseek-r1-moe flux-attention flux-conv"
for w in $W; do
  /tmp/t18/colt-base tune --workload $w --strategy colt --trials 64 --seed 99 --db /tmp/t18/warm.db --json > /dev/null 2>&1
done
for s in 1 2 3; do
  for w in $W; do
    order="old new"; [ $((s % 2)) = 0 ] && order="new old"
    for b in $order; do
      bin=/tmp/t18/colt-base; [ $b = new ] && bin=/tmp/t18/colt-new
      $bin tune --workload $w --strategy colt --trials 64 --seed $s --db /tmp/t18/ab-$b.db --json > $w-$s-$b.json 2> $w-$s-$b.err
    done
  done
done
date -u +%FT%TZ > ended.txt
