#!/bin/sh
# Interleaved A/B of two-level compute-with groups (old = eb96ab1, one head per group
# iteration; new = 78cf1d1, half of the group draws also cut each head's query rows into
# blocks), AVX2 code on the 2-core Zen 4, evolutionary, 64 trials, seeds 1-2, order swapped
# every seed, one database per binary: Llama-3 attention at its paper shape (256 tokens) and
# two longer sequences no suite has (1024 tokens x 8 heads, 2048 tokens x 4 heads).
# Usage: run.sh OLD NEW
set -u
cd "$(dirname "$0")"
SEEDS="1 2" sh ../2026-12-03-lane-partition/run.sh "$1" "$2" . haswell \
  llama3-8b-attention:heads=8,seq=1024 llama3-8b-attention:heads=4,seq=2048 llama3-8b-attention
