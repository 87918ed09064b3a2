#!/bin/bash
# Issue 12's measurement: the five model layers (CI scale), 64 trials, evolutionary and COLT
# (default embedded bucket), seeds 1-3, in one `colt bench` run, with the stored prompt states
# emptied first (every layer's first COLT run evaluates its prefix as a new user's would).
# Binary: /tmp/t18/colt-new (51c6928 + the question's tried children counted), release build.
cd "$(dirname "$0")"
rm -rf ~/.cache/colt/kv
date -u +%FT%TZ > started.txt
lscpu > lscpu.txt
/tmp/t18/colt-new bench --workloads llama3-8b-attention,llama4-scout-mlp,deepseek-r1-moe,flux-attention,flux-conv \
    --trials 64 --strategies evolutionary,colt --seeds 3 --skip-tvm --json --db /tmp/t18/bench.db > bench.json 2> bench.err
echo "rc $?" >> bench.err
date -u +%FT%TZ > ended.txt
