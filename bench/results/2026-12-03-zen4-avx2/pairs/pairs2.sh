#!/bin/sh
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
PY=/root/.cache/colt/tvm-venv/bin/python
for r in 1 2; do
  for v in r12x1 r13x1 r14x1 r6x2; do
    us=$(/tmp/b/colt measure --workload matmul --scale paper --trace $v.json --skip-baselines --repeats 10 --json 2>&1 | python3 -c "import json,sys; s=sys.stdin.read(); 
try: print(round(json.loads(s)['best_us']))
except Exception: print(s[-200:])")
    echo "$r $v $us"
  done
  echo "$r openblas $($PY ob.py 10)"
done
