#!/bin/sh
# Same matmul 1024^3 schedules, AVX2 code, each timed in a fresh process, rounds interleaved.
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
PY=/root/.cache/colt/tvm-venv/bin/python
for r in 1 2 3 4 5; do
  for v in r4x2 r5x2 r6x2 r7x2 r3x4; do
    us=$(/tmp/b/colt measure --workload matmul --scale paper --trace $v.json --skip-baselines --repeats 10 --json 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('tuned_us') or d)")
    echo "$r $v $us"
  done
  echo "$r openblas $($PY ob.py 10)"
done
