#!/bin/bash
# Same machine, same session: the binary before jump-forward decoding and the share cap
# (347a697, "old") against the one after (baaf9f4, "new"), colt strategy, 64 trials,
# interleaved per layer and seed. A 16-trial warm-up per layer first, so both binaries
# find the models' prompt prefixes in the on-disk KV store (the prompts are identical).
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
tune() { # bin db label workload seed trials
  local bin=$1 db=$2 label=$3 w=$4 s=$5 t=$6
  $bin tune --workload $w --trials $t --seed $s --db $db --json --strategy colt > $label-$w-s$s.json 2>> terminal.txt
  echo "$(date -u +%T) $label $w seed $s rc=$?" >> terminal.txt
}
for w in flux-conv llama4-scout-mlp llama3-8b-attention; do
  tune /tmp/colt-new warm.db warm $w 9 16
done
for s in 1 2; do
  for w in flux-conv llama4-scout-mlp; do
    tune /tmp/colt-old-347a697 old.db colt-old $w $s 64
    tune /tmp/colt-new new.db colt-new $w $s 64
  done
done
date -u +%FT%TZ > ended.txt
