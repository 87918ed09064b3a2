#!/bin/bash
# Issue 16: LLVM pass ordering, size objective, after default<O1> joined the size search's
# standard starts (ccf12af). The 13 bundled programs, 64 trials, 3 seeds, evolutionary and
# colt (default embedded bucket) in one command; then the same on two programs colt was not
# developed on (bench/results/2026-12-02-stem/programs/). A copy of the release binary so
# that builds cannot replace it; nothing else ran on the machine meanwhile.
cd "$(dirname "$0")"
DB=${DB:-$HOME/.cache/colt/bench-dbs/2026-12-02-llvm-o1}
date -u +%FT%TZ > started.txt
/tmp/colt-o1 bench --space llvm --trials 64 --seeds 3 --strategies evolutionary,colt --objectives size \
  --db $DB/bundled.db --json --csv bundled.csv > bundled.json 2> bundled.txt
echo $? > rc.txt
date -u +%FT%TZ > bundled-ended.txt
/tmp/colt-o1 bench --space llvm --trials 64 --seeds 3 --strategies evolutionary,colt --objectives size \
  --programs ../2026-12-02-stem/programs/sort_hash.c,../2026-12-02-stem/programs/text_stats.c \
  --db $DB/outside.db --json --csv outside.csv > outside.json 2> outside.txt
echo $? >> rc.txt
date -u +%FT%TZ > ended.txt
