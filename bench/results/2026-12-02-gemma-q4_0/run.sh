#!/bin/bash
# Issue 12: the five model layers (CI scale), 64 trials, 3 seeds, evolutionary and colt with
# the default embedded bucket, after Gemma 3 270M loads its Q4_0 conversion (commit after
# 62a73a5). The Q4_0 file is new, so each layer's first colt run stores its prompt stem and
# prefix, as on a fresh machine. One command; nothing else ran meanwhile.
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
/tmp/colt-q4 bench --workloads llama3-8b-attention,llama4-scout-mlp,deepseek-r1-moe,flux-attention,flux-conv \
  --trials 64 --strategies evolutionary,colt --seeds 3 --skip-tvm \
  --db $HOME/.cache/colt/bench-dbs/2026-12-02-gemma-q4_0.db --json > bench.json 2> bench.txt
echo $? > rc.txt
date -u +%FT%TZ > ended.txt
