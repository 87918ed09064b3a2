#!/bin/bash
# Same machine, same session: the binary before the per-round call quota (397ead8, "old")
# against the one after it (a29bf6b, "new"), with evolutionary as the plain reference, and
# λ ∈ {0, 0.25} beside the default 0.5 on the new binary. Interleaved per seed and layer.
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
tune() { # bin db label workload seed [config]
  local bin=$1 db=$2 label=$3 w=$4 s=$5; shift 5
  $bin tune --workload $w --trials 64 --seed $s --db $db --json "$@" > $label-$w-s$s.json 2>> terminal.txt
  echo "$(date -u +%T) $label $w seed $s rc=$?" >> terminal.txt
}
for w in flux-conv llama4-scout-mlp deepseek-r1-moe; do
  tune /tmp/colt-new evo.db evolutionary $w 1 --strategy evolutionary
  tune /tmp/colt-old old.db colt-old $w 1 --strategy colt
  tune /tmp/colt-new new.db colt-new $w 1 --strategy colt
  tune /tmp/colt-new lambda.db colt-lambda0 $w 1 --strategy colt --config lambda-0.toml
  tune /tmp/colt-new lambda.db colt-lambda0.25 $w 1 --strategy colt --config lambda-0.25.toml
done
for w in flux-conv llama4-scout-mlp; do
  tune /tmp/colt-new evo.db evolutionary $w 2 --strategy evolutionary
  tune /tmp/colt-old old.db colt-old $w 2 --strategy colt
  tune /tmp/colt-new new.db colt-new $w 2 --strategy colt
done
date -u +%FT%TZ > ended.txt
