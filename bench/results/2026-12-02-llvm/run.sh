#!/bin/bash
# Issue 16: LLVM pass ordering, the 13 bundled programs, size objective, 64 trials:
# evolutionary over 3 seeds, then colt (the default embedded bucket) over seed 1 only (a
# colt tune of one program takes 1-3 minutes on this 2-core machine: 3 seeds of 13 programs
# did not fit in the session with the CI run). A copy of the release binary of 0e82c44, so
# that builds cannot replace it; nothing else ran on the machine meanwhile.
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
/tmp/colt-new bench --space llvm --trials 64 --seeds 3 --strategies evolutionary --objectives size \
  --db bench.db --json --csv evolutionary.csv > evolutionary.json 2> evolutionary.txt
/tmp/colt-new bench --space llvm --trials 64 --seeds 1 --strategies colt --objectives size \
  --db bench.db --json --csv colt.csv > colt.json 2> colt.txt
echo $? > rc.txt
date -u +%FT%TZ > ended.txt
