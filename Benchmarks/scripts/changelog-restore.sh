#!/usr/bin/env bash
# Restore time vs state size: how long a partition takes to rebuild from the state changelog alone (a new machine
# or a wiped --data-dir), measured with the daemon's own leadscore_restore_duration_seconds.
#
#   Benchmarks/scripts/changelog-restore.sh [CONTACTS...]      (default: 5000 20000 50000 100000)
#
# 16 input and changelog partitions; the stream has 2 events per requested contact (Zipf: the busiest contacts get
# most of them, so fewer distinct contacts end up in state — the line reports how many did). The built-in cluster
# keeps ~5 MiB per partition and never compacts, which bounds the sizes it can measure. One line per size; the
# restore time is the sum over the 16 partitions (they restore one after the other on the poll thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LEADSCORED_BIN:-.build/release/leadscored}
[ -x "$BIN" ] || swift build -c release --product leadscored >/dev/null
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(5000 20000 50000 100000)
P=16
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" dev-broker --brokers 1 --bootstrap-file "$WORK/bs" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s "$WORK/bs" ] && break; sleep 0.1; done
BS=$(cat "$WORK/bs")
ctl() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.makefile().readline().strip())' "$WORK/bs.ctl" "$1" >/dev/null; }
metric() { curl -s "localhost:$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }
port() { for _ in $(seq 100); do p=$(grep -o 'http listening on [0-9.]*:[0-9]*' "$1" | tail -1 | cut -d: -f2); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.1; done; }

echo "contacts  changelog_records  changelog_MiB  restore_s  records_per_s"
for n in "${SIZES[@]}"; do
    t="r$n"
    for topic in in-$t sc-$t al-$t dlq-$t state-$t; do ctl "create $topic $P"; done
    ctl "create owners-$t 1"
    # Two events per contact on average (Zipf): every contact exists once the stream is read.
    "$BIN" generate --events $((n * 2)) --contacts "$n" --seed 7 --keyed > "$WORK/in.tsv"
    kcat -P -b "$BS" -t "in-$t" -K $'\t' -l "$WORK/in.tsv"
    args=(run --bootstrap-servers "$BS" --group-id "g-$t" --input-topic "in-$t" --rules examples/rules.yaml
          --state-topic "state-$t" --owners-topic "owners-$t" --http-port 0 --log-format json --checkpoint-interval 2s
          --kafka-property session.timeout.ms=6000 --kafka-property heartbeat.interval.ms=500)
    cfg="$WORK/$t.yaml"
    printf 'topics:\n  stage_changes: sc-%s\n  alerts: al-%s\n  dlq: dlq-%s\n' "$t" "$t" "$t" > "$cfg"
    "$BIN" "${args[@]}" --config "$cfg" --data-dir "$WORK/data-$t-1" > "$WORK/$t-1.log" 2>&1 &
    pid=$!; p=$(port "$WORK/$t-1.log")
    lagging() { curl -s "localhost:$p/metrics" | awk '/^leadscore_consumer_lag_messages/ { n++; s += $2 } END { exit !(n < '$P' || s > 0) }'; }
    while lagging; do sleep 0.5; done
    sleep 3   # one more checkpoint interval: the last events are in the changelog
    kill -TERM $pid; wait $pid
    records=$(kcat -C -b "$BS" -t "state-$t" -e -q -f '%o\n' | wc -l)
    bytes=$(kcat -C -b "$BS" -t "state-$t" -e -q -f '%S\n' | awk '{s+=$1} END {print s}')
    # A new machine: empty data directory, the same group.
    "$BIN" "${args[@]}" --config "$cfg" --data-dir "$WORK/data-$t-2" > "$WORK/$t-2.log" 2>&1 &
    pid=$!; p=$(port "$WORK/$t-2.log")
    until awk -v v="$(metric "$p" leadscore_restore_duration_seconds_count)" 'BEGIN { exit !(v + 0 >= '$P') }'; do sleep 0.2; done
    secs=$(metric "$p" leadscore_restore_duration_seconds_sum)
    n=$(metric "$p" leadscore_contacts)
    kill -TERM $pid; wait $pid
    awk -v n="$n" -v r="$records" -v b="$bytes" -v s="$secs" 'BEGIN { printf "%8d  %17d  %13.2f  %9.3f  %13.0f\n", n, r, b / 1048576, s, r / s }'
done
