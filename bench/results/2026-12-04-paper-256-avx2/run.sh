#!/bin/bash
# Issue 15's 256-trial rows with AVX2 code: colt evolutionary 256 trials x 1 seed against TVM
# MetaSchedule 0.27 at 256 trials (mcpu=haswell), numpy/OpenBLAS (Haswell kernels) beside them,
# 5-round fresh-process final timing; paper scale, the six suite layers in two invocations
# (a part that finishes is kept if the session ends). 2-core AMD EPYC Zen 4 (family 25
# model 17), release build of 515d161 (structure mutator), nothing else running.
# As run: part a only (18-20 min a layer here, more than planned); the shell was stopped
# during it and run-rest.sh ran flux-conv and llama3-8b-attention one invocation each after
# it; flux-attention was not run at 256 trials.
# Usage: run.sh COLT_BINARY
set -u
cd "$(dirname "$0")"
C=$1
DB=/tmp/b256/paper.db
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
date -u +%FT%TZ > started.txt
lscpu > lscpu.txt
$C machine --db $DB --json > machine-start.json 2>&1
for part in "a matmul,deepseek-r1-moe,llama4-scout-mlp" "b flux-conv,llama3-8b-attention,flux-attention"; do
  set -- $part
  $C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads "$2" \
      --db $DB --json --csv bench-$1.csv > bench-$1.json 2> bench-$1.err
  echo "rc $? $(date -u +%FT%TZ)" >> bench-$1.err
  $C machine --remeasure --db $DB --json > machine-after-$1.json 2>&1
done
date -u +%FT%TZ > ended.txt
