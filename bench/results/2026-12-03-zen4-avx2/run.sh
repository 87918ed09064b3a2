#!/bin/bash
# Issue 15 with AVX2 code on a 2-core AMD EPYC Zen 4 (family 25 model 17; AVX-512 hardware run
# as two 256-bit halves, so AVX2 code reaches the same FMA peak: `colt machine` 222 GFLOP/s
# with COLT_MARCH=haswell against 224 native). colt's kernels and the probe compiled for
# Haswell (16 ymm registers, 8 lanes), TVM targeting mcpu=haswell, OpenBLAS forced to its
# Haswell kernels. Release build of 84cb189, nothing else running.
# The paper-scale side-by-side of the default suite (colt evolutionary 64 trials x 3 seeds,
# TVM MetaSchedule 0.27 at 64 trials, numpy/OpenBLAS, 5-round fresh-process final timing).
set -u
B=/tmp/b
C=$B/colt
D=$(dirname "$0")
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
$C machine --db $B/colt.db --json > $D/machine-start.json 2>&1
$C bench --scale paper --trials 64 --seeds 3 --strategies evolutionary --db $B/colt.db --json --csv $D/bench.csv > $D/bench.json 2> $D/bench.err
$C machine --remeasure --db $B/colt.db --json > $D/machine-end.json 2>&1
