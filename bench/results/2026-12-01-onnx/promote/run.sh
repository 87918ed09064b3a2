#!/bin/bash
set -e
cd /work/main
B=/tmp/ab3/colt-new
DB=/tmp/onnx5/colt.db
O=/tmp/onnx5
date -u > $O/start.txt
$B machine --db $DB --json > $O/machine.json
for m in transformer cnn; do
  $B model tune crates/colt-onnx/tests/models/$m.onnx --trials 256 --strategy evolutionary --seed 1 --db $DB --json > $O/$m.tune.json 2> $O/$m.tune.err
done
export COLT_ONNX_VENV=$(scripts/setup-onnxruntime)
for m in transformer cnn; do
  $B model bench crates/colt-onnx/tests/models/$m.onnx --db $DB --rounds 21 --json > $O/$m.bench.json 2> $O/$m.bench.err
done
date -u > $O/end.txt
