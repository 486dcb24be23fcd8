#!/usr/bin/env bash
# The daemon vs librdkafka alone, draining the same pre-loaded topic in the same run (issue 4's ratio).
#
#   Benchmarks/scripts/daemon-drain.sh [EVENTS] [PARTITIONS] [THREADS...]   (default: 665000 64, threads 1 and 0 = auto;
#   `default` passes no --processing-threads; OTHER_BIN=path adds a run of another build on the same topic;
#   TIMELINE=1 prints, per 100 ms, the events so far and the CPU share of the daemon's busiest threads)
#
# A dev broker (separate process) gets a topic of EVENTS generated events keyed by contact (the bench stream,
# 170 B each: keep EVENTS × 170 B / PARTITIONS under the built-in cluster's ~5 MiB per partition). First the raw C
# drain (`bench-kafka --drain-topic`: rd_kafka_consumer_poll, no processing; the median of RAW_RUNS), then one daemon per thread setting
# in its own group, timed like the raw drain from its first processed events to `leadscore_events_total` = EVENTS
# (Benchmarks/scripts/drain-clock.py: one poller process, 50 ms) (decode, score, publish the
# outputs, checkpoint). One line per measurement; ratio = daemon / raw; also the daemon's and the broker's CPU
# per event and the daemon's peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LEADSCORED_BIN:-.build/release/leadscored}
[ -x "$BIN" ] || swift build -c release --product leadscored >/dev/null
N=${1:-665000}; P=${2:-64}; shift $(( $# > 2 ? 2 : $# )) || true
THREADS=("$@"); [ ${#THREADS[@]} -gt 0 ] || THREADS=(1 0)
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" dev-broker --brokers 1 --bootstrap-file "$WORK/bs" >/dev/null 2>&1 &
BROKER=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime
for _ in $(seq 100); do [ -s "$WORK/bs" ] && break; sleep 0.1; done
BS=$(cat "$WORK/bs")
ctl() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.makefile().readline().strip())' "$WORK/bs.ctl" "$1" >/dev/null; }
port() { for _ in $(seq 200); do p=$(grep -o 'http listening on [0-9.]*:[0-9]*' "$1" | tail -1 | cut -d: -f2); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.05; done; }
now() { date +%s.%N; }

for topic in drain-in drain-sc drain-al drain-dlq; do ctl "create $topic $P"; done
"$BIN" generate --events "$N" --contacts $((N / 10)) --seed 7 --keyed > "$WORK/in.tsv"
kcat -P -b "$BS" -t drain-in -K $'\t' -X enable.idempotence=true -l "$WORK/in.tsv"
# The topic's real count (what the broker kept) is what both sides must drain. The raw drain alone varies by
# up to 3x from one run to the next here (0.5-1.6 M/s on one topic): RAW_RUNS drains (default 3), the median.
raws=()
for _ in $(seq "${RAW_RUNS:-3}"); do
    read -r N r < <("$BIN" bench-kafka --drain-topic drain-in --bootstrap-servers "$BS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["messages"], d["raw_consume_per_sec"])')
    raws+=("$r")
done
raw=$(printf '%s\n' "${raws[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
printf 'topics:\n  stage_changes: drain-sc\n  alerts: drain-al\n  dlq: drain-dlq\n' > "$WORK/cfg.yaml"
echo "events=$N partitions=$P raw_drain_per_sec=$raw (median of ${raws[*]})"
drain() {   # BIN THREADS LABEL
    local bin=$1 t=$2 log="$WORK/run-$3.log"
    "$bin" run --config "$WORK/cfg.yaml" --bootstrap-servers "$BS" --group-id "drain-$3-$RANDOM" --input-topic drain-in \
        --rules examples/rules.yaml --data-dir "$WORK/data-$3" --http-port 0 --log-format json \
        $( [ "$t" = default ] || echo --processing-threads "$t") \
        --kafka-property session.timeout.ms=6000 --kafka-property heartbeat.interval.ms=500 ${DAEMON_FLAGS:-} > "$log" 2>&1 &
    local pid=$! p; p=$(port "$log")
    local d b0 b1 c hwm
    b0=$(cpu_ticks $BROKER)
    if [ -n "${TIMELINE:-}" ]; then d=$(python3 Benchmarks/scripts/drain-timeline.py "$p" "$N" $pid)
    else d=$(python3 Benchmarks/scripts/drain-clock.py "$p" "$N"); fi
    c=$(cpu_ticks $pid); b1=$(cpu_ticks $BROKER); hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' /proc/$pid/status)
    kill -TERM $pid; wait $pid || true
    # CPU per event (the daemon's whole life, group join included; the broker's during the drain) is steadier
    # than the ratio here: the raw drain alone varies 2x between runs.
    awk -v d="$d" -v r="$raw" -v t="$3" -v c="$c" -v b="$((b1 - b0))" -v n="$N" -v h="$hwm" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%s daemon_per_sec=%.0f ratio=%.2f daemon_cpu_us_per_event=%.2f broker_cpu_us_per_event=%.2f daemon_peak_rss_mb=%d\n", t, d, d / r, c * 1e6 / hz / n, b * 1e6 / hz / n, h }'
}
for t in "${THREADS[@]}"; do drain "$BIN" "$t" "processing_threads=$t"; done
# OTHER_BIN=path: the same topic drained by another build (e.g. the previous release), for a same-run comparison.
[ -z "${OTHER_BIN:-}" ] || drain "$OTHER_BIN" default "other_bin"
