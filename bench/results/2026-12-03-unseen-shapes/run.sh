#!/bin/sh
# Layers at deployed shapes that neither suite has (shape overrides of built-in workloads),
# AVX2 code on whatever machine runs it: colt (COLT_MARCH=haswell), TVM MetaSchedule
# (mcpu=haswell), OpenBLAS (OPENBLAS_CORETYPE=Haswell). One `colt bench` per layer so that
# every finished layer leaves its JSON behind.
# Usage: [ISA=native] run.sh COLT_BINARY OUTDIR [WORKLOAD...]
set -u
COLT=$1; OUT=$2; shift 2
mkdir -p "$OUT"
lscpu > "$OUT/lscpu.txt"
# ISA=native in the environment: the machine's own vector ISA for all three instead.
[ "${ISA:-haswell}" = haswell ] && export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
"$COLT" machine --json > "$OUT/machine-start.json"
for W in "$@"; do
  f=$(echo "$W" | tr ':=,' '___')
  echo "$(date -u +%H:%M:%S) $W" >> "$OUT/log.txt"
  "$COLT" bench --workloads "$W" --scale paper --trials 64 --seeds 3 --strategies evolutionary \
    --db "$OUT/colt.db" --json --csv "$OUT/$f.csv" > "$OUT/$f.json" 2> "$OUT/$f.err"
  echo "$(date -u +%H:%M:%S) $W rc=$?" >> "$OUT/log.txt"
done
"$COLT" machine --json > "$OUT/machine-end.json"
