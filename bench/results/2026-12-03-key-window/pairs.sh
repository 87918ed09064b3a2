#!/bin/sh
# Each sampled schedule with a windowed tail pack (new) against the same decisions with the
# tail starting at the cut and reading the stage's pack (old), both built by the new binary,
# timed alternately in fresh processes, 3 rounds. Usage: pairs.sh COLT
COLT=$1
for r in 1 2 3; do
  for f in pairs/*-new.json; do
    b=${f%-new.json}; w=$(basename "$b" | cut -d- -f1)
    for v in old new; do
      us=$("$COLT" measure --workload "$w.toml" --trace "$b-$v.json" --skip-baselines --repeats 10 --json 2>/dev/null \
        | python3 -c "import json,sys; print(round(json.load(sys.stdin)['best_us'],1))")
      echo "$r $(basename "$b") $v $us"
    done
  done
done
