#!/bin/bash
# FLUX attention, the row run.sh left out, with AVX2 code as in run.sh (same binary and
# database), one invocation, the next session's morning.
# Usage: run-d.sh COLT_BINARY
set -u
cd "$(dirname "$0")"
C=$1
DB=/tmp/b256/paper.db
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
date -u +%FT%TZ > started-d.txt
$C machine --remeasure --db $DB --json > machine-before-d.json 2>&1
$C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads flux-attention \
    --db $DB --json --csv bench-d.csv > bench-d.json 2> bench-d.err
echo "rc $? $(date -u +%FT%TZ)" >> bench-d.err
$C machine --remeasure --db $DB --json > machine-after-d.json 2>&1
date -u +%FT%TZ > ended-d.txt
