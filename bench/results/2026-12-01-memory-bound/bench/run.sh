#!/bin/bash
cd /work/main
date -u > /tmp/b16/start.txt
/tmp/ab3/colt-new bench --scale paper --trials 64 --seeds 3 --strategies evolutionary --workloads llama4-scout-mlp,deepseek-r1-moe --db /tmp/b16/colt.db --json --csv /tmp/b16/bench.csv > /tmp/b16/bench.json 2> /tmp/b16/bench.err
date -u > /tmp/b16/mid.txt
/tmp/ab3/colt-new bench --suite outside --scale paper --trials 64 --seeds 3 --strategies evolutionary --workloads gemv --db /tmp/b16/colt-outside.db --json --csv /tmp/b16/outside.csv > /tmp/b16/outside.json 2> /tmp/b16/outside.err
date -u > /tmp/b16/end.txt
