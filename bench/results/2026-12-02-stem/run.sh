#!/bin/bash
# The prompt's stem stored apart (new) against the whole-prefix store only (old): the first
# COLT run on workloads and programs none of whose prompt states is stored. Both arms start
# from an empty kv/ folder next to the models and alternate per workload (their prompt
# states never match each other's: the prompt texts differ). 64 trials, seed 1, the default
# embedded bucket; nothing else runs on the machine. Binaries: /tmp/colt-old (HEAD before
# the change), /tmp/colt-new.
set -u
cd "$(dirname "$0")"
KV="$HOME/.cache/colt/kv"
mkdir -p runs
rm -rf "$KV.aside" && mv "$KV" "$KV.aside" 2>/dev/null
mkdir -p "$KV"
date -u +%FT%TZ > started.txt
P=../../../crates/colt-llvm/programs
for w in $P/dce_unused.c $P/loop_crc32.c $P/vec_dot.c programs/sort_hash.c programs/text_stats.c; do
  n=$(basename "$w" .c)
  for arm in old new; do
    /usr/bin/time -f "%e" -o runs/llvm-$n-$arm.time /tmp/colt-$arm tune --json --space llvm --program "$w" \
      --objective size --strategy colt --trials 64 --seed 1 --db runs/$arm.db \
      > runs/llvm-$n-$arm.json 2> runs/llvm-$n-$arm.err
  done
done
for w in flux-conv mlp-up-proj gemv deepseek-r1-moe; do
  for arm in old new; do
    /usr/bin/time -f "%e" -o runs/tensor-$w-$arm.time /tmp/colt-$arm tune --json --workload $w \
      --strategy colt --trials 64 --seed 1 --db runs/$arm.db \
      > runs/tensor-$w-$arm.json 2> runs/tensor-$w-$arm.err
  done
done
date -u +%FT%TZ > ended.txt
rm -rf "$KV" && mv "$KV.aside" "$KV"
