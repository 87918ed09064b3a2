#!/bin/sh
# The matmul 1024³ row of this directory's table, run after the five layers (run.sh stopped
# before it for time, then CI ran, then this): the same command, binary and flags.
# Usage: run-matmul.sh COLT_BINARY
set -u
cd "$(dirname "$0")"
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
W=matmul
echo "$(date -u +%H:%M:%S) $W" >> log.txt
"$1" bench --workloads "$W" --scale paper --trials 64 --seeds 3 \
  --strategies random,evolutionary,mcts --db colt.db --json --csv "$W.csv" > "$W.json" 2> "$W.err"
echo "$(date -u +%H:%M:%S) $W rc=$?" >> log.txt
