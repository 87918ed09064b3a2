#!/bin/bash
# Issues 11/12: the 3-seed experiment after jump-forward decoding and the share cap (baaf9f4).
cd "$(dirname "$0")"
# A copy of the release binary (baaf9f4) made before the run, so that builds cannot replace it.
date -u +%FT%TZ > started.txt
/tmp/colt-bench bench --workloads llama3-8b-attention,llama4-scout-mlp,deepseek-r1-moe,flux-attention,flux-conv \
  --trials 64 --strategies evolutionary,colt,single-llm:gemma-3-270m,colt-homogeneous,single-llm:smollm2-135m --seeds 3 --skip-tvm --db bench.db --json > bench.json 2> terminal.txt
echo $? > rc.txt
date -u +%FT%TZ > ended.txt
