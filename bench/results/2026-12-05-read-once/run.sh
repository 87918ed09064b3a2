#!/bin/sh
# A/B of "weights read once stream in blocks" (register tiles that hold every row of a
# decode-sized product are blocked 9 times in 10 instead of half): old = 125927f, new = 125927f
# + read-once.patch (not committed: withdrawn); evolutionary 64 trials x 3 seeds, interleaved, AVX2 code; then each
# layer's result kernels re-timed together (retime-*.json).
# Usage: run.sh OLD NEW
set -u
cd "$(dirname "$0")"
SEEDS="1 2 3" sh ../2026-12-03-lane-partition/run.sh "$1" "$2" . haswell llama4-scout-mlp deepseek-r1-moe
for W in llama4-scout-mlp deepseek-r1-moe; do
  COLT_MARCH=haswell sh ../2026-12-04-register-mutator/retime.sh . "$W" "$W" "$2" 9 > "retime-$W.txt" 2>&1
done
