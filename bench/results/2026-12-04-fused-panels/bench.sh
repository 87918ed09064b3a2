#!/bin/sh
# matmul 1024^3 and an out-of-suite MLP layer side by side with AVX2 code after the lane-index fix
# (release build of 31c65a1): colt evolutionary 64 trials x 3 seeds, TVM MetaSchedule 0.27
# at 64 trials (mcpu=haswell), numpy/OpenBLAS (Haswell kernels), 5-round fresh-process
# final timing. 2-core AMD EPYC Zen 4, nothing else running.
set -u
C=${COLT:-target/release/colt}
D=$(dirname "$0")/bench
mkdir -p "$D"
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
DB=$D/colt.db
$C machine --db "$DB" --json > "$D/machine-start.json" 2>&1
$C bench --scale paper --trials 64 --seeds 3 --strategies evolutionary --workloads matmul,dense-bias-silu:M=128,K=768,N=3072 \
  --db "$DB" --json --csv "$D/bench.csv" > "$D/bench.json" 2> "$D/bench.err"
$C machine --remeasure --db "$DB" --json > "$D/machine-end.json" 2>&1
