#!/bin/sh
# Re-time an A/B's result kernels together in one worker: every run's best trace of layer
# PREFIX (the tune JSONs DIR/PREFIX-{old,new}-SEED.json) is timed round-robin by
# `colt measure --trace ... --rounds R` (each round starting one kernel further), so that the
# machine's drift over minutes hits both arms alike. Writes DIR/retime-PREFIX.json.
# Usage: retime.sh DIR PREFIX WORKLOAD COLT [ROUNDS]   (COLT_MARCH as the runs had it)
set -eu
DIR=$1; PREFIX=$2; W=$3; COLT=$4; R=${5:-15}
T=$(mktemp -d)
args=""
for f in "$DIR/$PREFIX"-old-[0-9].json "$DIR/$PREFIX"-new-[0-9].json; do
  k=$(basename "$f" .json)
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t=d['best_trace']; json.dump(t if isinstance(t,dict) else json.loads(t), open(sys.argv[2],'w'))" "$f" "$T/$k.json"
  args="$args --trace $T/$k.json"
done
# shellcheck disable=SC2086
"$COLT" measure --workload "$W" --scale paper $args --rounds "$R" --repeats 3 \
  --min-repeat-ms 10 --skip-baselines --json > "$DIR/retime-$PREFIX.json"
python3 - "$DIR/retime-$PREFIX.json" <<'PY'
import json, re, statistics as st, sys
v = json.load(open(sys.argv[1]))
arms = {}
for e in v["schedules_measured"]:
    k = re.search(r"-(old|new)-(\d)\.json$", e["trace"])
    arms.setdefault(k.group(1), []).append((int(k.group(2)), e["median_us"]))
for a in ("old", "new"):
    xs = sorted(arms.get(a, []))
    us = [u for _, u in xs if u]
    print(a, " ".join(f"s{s}:{u:.0f}" if u else f"s{s}:failed" for s, u in xs),
          f"median {st.median(us):.0f} (min {min(us):.0f} max {max(us):.0f})" if us else "")
o, n = [st.median([u for _, u in arms[a] if u]) for a in ("old", "new")]
print(f"new / old {n / o:.2f}  ({v['rounds']} rounds)")
PY
rm -rf "$T"
