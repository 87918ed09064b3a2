#!/bin/sh
# usage: time.sh ROUNDS trace...
R=$1; shift
export COLT_MARCH=haswell OPENBLAS_CORETYPE=Haswell
for r in $(seq $R); do
  for t in "$@"; do
    us=$(${COLT:-colt} measure --json --skip-baselines --workload matmul --scale paper --seed 1 --repeats 5 --min-repeat-ms 10 --trace $t 2>/dev/null | python3 -c "import json,sys;print(round(json.load(sys.stdin)['best_us']))")
    echo "$r $(basename $t) $us"
  done
  /root/.cache/colt/tvm-venv/bin/python -c "
import numpy as np,time
a=np.random.rand(1024,1024).astype('f4');b=np.random.rand(1024,1024).astype('f4');a@b
ts=[]
for i in range(5):
  t=time.perf_counter();[a@b for _ in range(3)];ts.append((time.perf_counter()-t)/3)
print('$r openblas',round(sorted(ts)[2]*1e6))"
done
