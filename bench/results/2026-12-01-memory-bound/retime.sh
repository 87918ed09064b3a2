#!/bin/bash
# Quiet re-time of every arm's best trace (new binary; codegen of the arm that found it: new's traces with new, main's with main), 5 rounds, order alternating.
cd /tmp/ab5
for f in *-new.json *-main.json; do python3 -c "
import json;d=json.load(open('$f'));json.dump(d['best_trace'],open('${f%.json}.trace','w'))"; done
/tmp/ab3/colt-new machine --json --db /tmp/ab5/quiet.db > machine-quiet-start.json 2>/dev/null
for r in 1 2 3 4 5; do
  list=$(ls *.trace); [ $((r % 2)) = 0 ] && list=$(ls *.trace | sort -r)
  for t in $list; do
    w=$(echo $t | sed -E 's/-[0-9]-(new|main).trace//')
    C=/tmp/ab3/colt-new; case $t in *-main.trace) C=/tmp/colt-base;; esac
    us=$($C measure --workload $w --scale paper --trace $t --skip-baselines --json --repeats 5 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['best_us'])" 2>&1 | tail -1)
    echo "$r $t $us"
  done
done
/tmp/ab3/colt-new machine --json --db /tmp/ab5/quiet2.db > machine-quiet-end.json 2>/dev/null
