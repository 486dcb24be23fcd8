#!/usr/bin/env bash
# Two builds' daemons draining the same topic in each round (`daemon-drain.sh` with OTHER_BIN), which one goes
# first alternating: one drain lasts about a second here, so single runs cannot resolve 10 %.
#
#   Benchmarks/scripts/drain-ab.sh A B ROUNDS [EVENTS PARTITIONS]   (default 665000 64)
set -euo pipefail
A=$1; B=$2; R=$3; N=${4:-665000}; P=${5:-64}
cd "$(dirname "$0")/../.."
for r in $(seq 1 "$R"); do
    if [ $((r % 2)) = 1 ]; then X=$A; Y=$B; first=A; else X=$B; Y=$A; first=B; fi
    out=$(LEADSCORED_BIN=$X OTHER_BIN=$Y Benchmarks/scripts/daemon-drain.sh "$N" "$P" default 2>&1 | tail -2)
    rx=$(echo "$out" | head -1 | grep -o 'ratio=[0-9.]*' | cut -d= -f2)
    ry=$(echo "$out" | tail -1 | grep -o 'ratio=[0-9.]*' | cut -d= -f2)
    if [ $first = A ]; then echo "round $r: A=$rx B=$ry (A first)"; else echo "round $r: A=$ry B=$rx (B first)"; fi
done
