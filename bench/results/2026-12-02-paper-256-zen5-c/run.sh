#!/bin/bash
# Issue 15's 256-trial rows, FLUX attention alone (the row the earlier invocations could not fit
# into the session): colt evolutionary 256 trials x 1 seed against TVM MetaSchedule 0.27 at 256
# trials, numpy/OpenBLAS, 5-round fresh-process final timing; paper scale; 2-core AMD EPYC Zen 5
# (AVX-512), release build of 25f42f9 (code unchanged to dde9c7e), nothing else running.
# Usage: run.sh NAME WORKLOADS (run: run.sh fluxattn flux-attention)
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
