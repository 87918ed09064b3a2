#!/bin/bash
# Issue 16: LLVM pass ordering for run time, the 13 bundled programs, 64 trials, three seeds:
# evolutionary (05:16-05:27 UTC, the release binary of f8d24e4), then colt with the default
# embedded bucket (the binary with the stored prompt stem). Nothing else ran on the machine.
cd "$(dirname "$0")"
[ -s evolutionary.json ] || /tmp/colt-cur bench --space llvm --trials 64 --seeds 3 --strategies evolutionary \
  --objectives runtime --db bench.db --json --csv evolutionary.csv > evolutionary.json 2> evolutionary.txt
date -u +%FT%TZ > colt-started.txt
/tmp/colt-new bench --space llvm --trials 64 --seeds 3 --strategies colt --objectives runtime \
  --db bench.db --json --csv colt.csv > colt.json 2> colt.txt
echo $? > colt-rc.txt
date -u +%FT%TZ > colt-ended.txt
