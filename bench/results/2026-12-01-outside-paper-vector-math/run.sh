#!/bin/bash
cd /work/main
date -u > /tmp/bout/start.txt
./target/release/colt bench --suite outside --scale paper --trials 64 --seeds 3 --strategies evolutionary --db /tmp/bout/colt.db --json --csv /tmp/bout/bench.csv > /tmp/bout/bench.json 2> /tmp/bout/bench.err
date -u > /tmp/bout/end.txt
