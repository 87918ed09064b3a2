#!/bin/sh
# Interleaved A/B of the pack-reuse rule (old = eb96ab1; new = fdf7574: only inputs a stage
# reads more than once are packed, and the reduction goes innermost mostly where output tiles
# cannot pay), AVX2 code on the 2-core Zen 4, evolutionary, 64 trials, seeds 1-3, order
# swapped every seed: the out-of-suite GEMV at its paper shape and at a shape no suite has
# (Llama-2-7B's MLP down projection for one token, 4096 x 11008).
# Usage: run.sh OLD NEW
set -u
cd "$(dirname "$0")"
SEEDS="1 2 3" sh ../2026-12-03-lane-partition/run.sh "$1" "$2" . haswell gemv gemv:M=4096,K=11008
# Then (21:40 UTC, new = fd9c59a: the pack rule without the withdrawn two-level groups) the two
# suite/outside layers whose sampling the rule changes (their row reductions had drawn register
# tiles over rows with the input transposed by a pack):
#   SEEDS="1 2 3" sh ../2026-12-03-lane-partition/run.sh OLD NEW rows haswell softmax rmsnorm
