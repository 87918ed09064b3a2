#!/bin/bash
# 256-trial rows with AVX2 code only on the AVX-512 Zen 5 (COLT_MARCH=haswell: colt's kernels
# and the machine probe compiled for Haswell; TVM MetaSchedule 0.27 targeting mcpu=haswell;
# OpenBLAS forced to its Haswell kernels): colt evolutionary 256 trials x 1 seed against TVM at
# 256 trials, numpy/OpenBLAS, 5-round fresh-process final timing, paper scale; 2-core AMD EPYC
# Zen 5, release build of 7f5198d (partitioned register tiles), nothing else running.
# This checks the ISA, not an AVX2 machine's caches and ports.
# Usage: run.sh NAME WORKLOADS (run: run.sh gemm matmul,flux-conv; then run.sh gemv llama4-scout-mlp,deepseek-r1-moe)
set -u
cd "$(dirname "$0")"
N=$1; W=$2
C=/tmp/t19/colt-part
DB=/tmp/t19/paper-haswell.db
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
date -u +%FT%TZ > started-$N.txt
$C machine --remeasure --db $DB --json > machine-start-$N.json 2>&1
$C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads $W \
    --db $DB --json --csv bench-$N.csv > bench-$N.json 2> bench-$N.err
echo "rc $?" >> bench-$N.err
date -u +%FT%TZ > ended-$N.txt
