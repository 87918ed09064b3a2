#!/bin/bash
# The rest of run.sh, one layer per invocation (a session's end keeps the layers done): after
# part a (pid $1) ends, flux-conv, then llama3-8b-attention, with AVX2 code as in run.sh.
set -u
cd "$(dirname "$0")"
while kill -0 "$1" 2>/dev/null; do sleep 5; done
echo "rc ? (part a, waited on) $(date -u +%FT%TZ)" >> bench-a.err
C=$2
DB=/tmp/b256/paper.db
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
$C machine --remeasure --db $DB --json > machine-after-a.json 2>&1
for part in "b flux-conv" "c llama3-8b-attention"; do
  set -- $part
  $C bench --scale paper --trials 256 --seeds 1 --strategies evolutionary --workloads "$2" \
      --db $DB --json --csv bench-$1.csv > bench-$1.json 2> bench-$1.err
  echo "rc $? $(date -u +%FT%TZ)" >> bench-$1.err
  $C machine --remeasure --db $DB --json > machine-after-$1.json 2>&1
done
date -u +%FT%TZ > ended.txt
