#!/bin/bash
# Issue 15's 256-trial rows, first two layers: colt evolutionary 256 trials x 1 seed against TVM
# MetaSchedule 0.27 at 256 trials, numpy/OpenBLAS beside them, 5-round fresh-process final
# timing; paper scale; matmul 1024^3 and the DeepSeek MoE (the GEMM-dominated layer furthest
# from its roofline on AVX-512). 2-core AMD EPYC Zen 5 (AVX-512), release build of 25f42f9,
# nothing else running. (Six layers at 256 trials take ~2.5 h on 2 cores: TVM alone ~20 min a
# layer; the other four were not run in this session.)
set -u
cd "$(dirname "$0")"
C=/tmp/t18/colt-new
DB=/tmp/t18/paper.db
date -u +%FT%TZ > started.txt
lscpu > lscpu.txt
$C machine --db $DB --json > machine-start.json 2>&1
$C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads matmul,deepseek-r1-moe \
    --db $DB --json --csv bench.csv > bench.json 2> bench.err
echo "rc $?" >> bench.err
$C machine --remeasure --db $DB --json > machine-end.json 2>&1
date -u +%FT%TZ > ended.txt
