#!/bin/bash
# COLT seeds 2 and 3 of ../run.sh (seed 1), one `colt tune` per program as `colt bench` runs
# them (same binary, 0e82c44; quiet machine). ratio = best IR count / clang -Oz's,
# text_ratio = best .text bytes / clang -Oz's (table.py).
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
for s in 2 3; do
  for p in ../../../../crates/colt-llvm/programs/*.c; do
    n=$(basename $p .c)
    /tmp/colt-new tune --json --space llvm --program $p --objective size --strategy colt \
      --trials 64 --seed $s --db bench.db > $n-$s.json 2> $n-$s.err
  done
done
date -u +%FT%TZ > ended.txt
