#!/bin/bash
# Issue 15's 256-trial rows, the other four layers, in two invocations of two layers each (so each
# lands on its own): colt evolutionary 256 trials x 1 seed against TVM MetaSchedule 0.27 at 256
# trials, numpy/OpenBLAS, 5-round fresh-process final timing; paper scale; 2-core AMD EPYC Zen 5
# (AVX-512), release build of 25f42f9, nothing else running.
# Usage: run.sh NAME WORKLOADS (e.g. run.sh gemm llama4-scout-mlp,flux-conv)
# Run: run.sh gemm llama4-scout-mlp,flux-conv; then run.sh attn llama3-8b-attention (the two attention
# layers together would not have ended inside the session; flux-attention was not run).
set -u
cd "$(dirname "$0")"
N=$1; W=$2
C=/tmp/t18/colt-new
DB=/tmp/t18/paper.db
date -u +%FT%TZ > started-$N.txt
$C machine --remeasure --db $DB --json > machine-start-$N.json 2>&1
$C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads $W \
    --db $DB --json --csv bench-$N.csv > bench-$N.json 2> bench-$N.err
echo "rc $?" >> bench-$N.err
date -u +%FT%TZ > ended-$N.txt
