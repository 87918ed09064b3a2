#!/bin/sh
# Issue 15, "What to build" 3: the three search strategies side by side at paper scale —
# random, evolutionary (MetaSchedule-like) and mcts (MCTS without LLM), 64 trials x 3 seeds
# each, beside TVM MetaSchedule 0.27 at 64 trials and numpy/OpenBLAS, 5-round fresh-process
# final timing, one `colt bench` per layer (a finished layer keeps its JSON). Binary of
# 125927f; AVX2 code for all three contenders (COLT_MARCH=haswell, TVM mcpu=haswell,
# OPENBLAS_CORETYPE=Haswell) on whatever machine runs it (lscpu.txt).
# Usage: run.sh COLT_BINARY
set -u
cd "$(dirname "$0")"
COLT=$1
lscpu > lscpu.txt
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
"$COLT" machine --json > machine-start.json
for W in llama3-8b-attention flux-attention llama4-scout-mlp deepseek-r1-moe flux-conv matmul; do
  echo "$(date -u +%H:%M:%S) $W" >> log.txt
  "$COLT" bench --workloads "$W" --scale paper --trials 64 --seeds 3 \
    --strategies random,evolutionary,mcts --db colt.db --json --csv "$W.csv" > "$W.json" 2> "$W.err"
  echo "$(date -u +%H:%M:%S) $W rc=$?" >> log.txt
done
"$COLT" machine --json > machine-end.json
