#!/bin/bash
# A/B of the record's batch lines: old = /tmp/ab17/colt-old (d927498: every measurement named),
# new = /tmp/ab17/colt-new (only the nodes models proposed, the root and new bests named; the
# others counted with their range). 64-trial colt tunes, interleaved (order swapped every
# seed), one layer (FLUX conv, where Gemma cached least), three seeds, after one 8-trial warm-up of each binary (its
# stem and prefix prompt states stored, so neither side pays for a cold store).
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
for w in flux-conv; do
  for b in old new; do
    /tmp/ab17/colt-$b tune --workload $w --strategy colt --trials 8 --seed 9 --db /tmp/ab17/warm-$b.db --json > /dev/null 2>&1
  done
done
for s in 1 2 3; do
  for w in flux-conv; do
    order="old new"; [ $((s % 2)) = 0 ] && order="new old"
    for b in $order; do
      /tmp/ab17/colt-$b tune --workload $w --strategy colt --trials 64 --seed $s --db /tmp/ab17/ab-$b.db --json > $w-$s-$b.json 2> $w-$s-$b.err
    done
  done
done
date -u +%FT%TZ > ended.txt
