#!/bin/bash
cd /work/main
date -u > /tmp/b15/start.txt
./target/release/colt bench --scale paper --trials 64 --seeds 3 --strategies evolutionary --workloads flux-attention,llama3-8b-attention,matmul --db /tmp/b15/colt.db --json --csv /tmp/b15/bench.csv > /tmp/b15/bench.json 2> /tmp/b15/bench.err
date -u > /tmp/b15/end.txt
