#!/bin/bash
# Seeds 2 and 3 of the model tune + bench (seed 1: ../vector-math), one database per seed.
set -e
cd /work/main
B=./target/release/colt
O=/tmp/onnx4
date -u > $O/start.txt
export COLT_ONNX_VENV=$(scripts/setup-onnxruntime)
for s in 2 3; do
  for m in transformer cnn; do
    DB=$O/seed$s.db
    $B model tune crates/colt-onnx/tests/models/$m.onnx --trials 256 --strategy evolutionary --seed $s --db $DB --json > $O/$m-seed$s.tune.json 2> $O/$m-seed$s.tune.err
    $B model bench crates/colt-onnx/tests/models/$m.onnx --db $DB --rounds 21 --json > $O/$m-seed$s.bench.json 2> $O/$m-seed$s.bench.err
  done
done
date -u > $O/end.txt
