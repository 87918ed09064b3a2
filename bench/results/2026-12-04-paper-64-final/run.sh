#!/bin/sh
# Issue 15's closing side-by-side: every paper-scale layer of the default suite, then the four
# out-of-suite layers, with the binary of eb96ab1 (compute-with groups), AVX2 code for all
# three contenders (colt COLT_MARCH=haswell, TVM mcpu=haswell, OpenBLAS Haswell kernels) on a
# 2-core AMD EPYC Zen 4 (family 25 model 17), nothing else running. colt evolutionary 64
# trials x 3 seeds, TVM MetaSchedule 0.27 at 64 trials, numpy/OpenBLAS, 5-round fresh-process
# final timing. One `colt bench` per layer (a finished layer keeps its JSON).
# Usage: run.sh COLT_BINARY
set -u
cd "$(dirname "$0")"
exec sh ../2026-12-03-unseen-shapes/run.sh "$1" . \
  llama3-8b-attention flux-attention llama4-scout-mlp deepseek-r1-moe flux-conv matmul \
  mlp-up-proj depthwise-conv rmsnorm gemv
