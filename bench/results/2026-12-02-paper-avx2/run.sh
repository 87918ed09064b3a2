#!/bin/bash
# Issue 15 on a real AVX2 machine (2-core AMD EPYC, Zen 3: family 25 model 1; AVX2 + FMA, no
# AVX-512), release build of d927498, nothing else running: the paper-scale side-by-side of the
# default suite (colt evolutionary 64 trials x 3 seeds, TVM MetaSchedule 0.27 at 64 trials,
# numpy/OpenBLAS, 5-round fresh-process final timing). Started 2026-12-02 11:47 UTC.
# (The out-of-suite layers, planned after it, were not run this session: no time.)
set -u
B=/tmp/b17
C=$B/colt
$C machine --db $B/colt.db --json > $B/machine-start.json 2>&1
$C bench --scale paper --trials 64 --seeds 3 --strategies evolutionary --db $B/colt.db --json --csv $B/bench.csv > $B/bench.json 2> $B/bench.err
$C machine --remeasure --db $B/colt.db --json > $B/machine-end.json 2>&1
