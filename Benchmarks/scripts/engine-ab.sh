#!/usr/bin/env bash
# Two builds' `bench-engine` at once, one per core (the cores swap every round), so both see the same moment of
# this shared VM: the only way small differences show through its ±15–30 % drift.
#
#   Benchmarks/scripts/engine-ab.sh A B ROUNDS [bench-engine args...]
#
# Prints, per round, B/A for every rate both builds report.
set -euo pipefail
A=$1; B=$2; R=$3; shift 3
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
for r in $(seq 1 "$R"); do
    if [ $((r % 2)) = 0 ]; then ca=0; cb=1; else ca=1; cb=0; fi
    taskset -c $ca "$A" bench-engine "$@" > "$WORK/a" 2>&1 &
    taskset -c $cb "$B" bench-engine "$@" > "$WORK/b" 2>&1
    wait
    python3 - "$WORK/a" "$WORK/b" <<'PY'
import json, sys
a, b = (json.loads(open(p).read().strip().split("\n")[-1]) for p in sys.argv[1:3])
out = [f"{k[:-8]}: {a[k]/1e6:.3f}->{b[k]/1e6:.3f} ({b[k]/a[k]:.2f}x)"
       for k in a if k.endswith("_per_sec") and a.get(k) and b.get(k)]
print(" | ".join(out))
PY
done
