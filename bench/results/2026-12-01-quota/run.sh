#!/bin/bash
# Issue 12/11: the 3-seed experiment after the per-round call quota change (a29bf6b).
cd "$(dirname "$0")"
date -u +%FT%TZ > started.txt
/work/main/target/release/colt bench --workloads llama3-8b-attention,llama4-scout-mlp,deepseek-r1-moe,flux-attention,flux-conv \
  --trials 64 --strategies evolutionary,colt,single-llm:gemma-3-270m,colt-homogeneous,single-llm:smollm2-135m --seeds 3 --skip-tvm --db bench.db --json > bench.json 2> terminal.txt
echo $? > rc.txt
date -u +%FT%TZ > ended.txt
