#!/usr/bin/env python3
"""Where a daemon's drain spends its time: every 100 ms, the events processed so far and the CPU share of the
daemon's busiest threads (from /proc/PID/task/*/stat), until leadscore_events_total reaches N.

    drain-timeline.py HTTP_PORT N DAEMON_PID

Prints the timeline and the total CPU ticks per thread on stderr, the events per second on stdout (like
drain-clock.py). Lanes, the poll thread and the producer poll thread show as the dispatch name
"oot.default-qos" (Foundation threads do not set the kernel name); librdkafka's broker threads as "rdk:broker1"
(one for the consumer, one for the producer). A flat stretch with every thread near 0 % is a fetch pause."""
import http.client, os, sys, time

port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def count():
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in body.splitlines() if l.startswith("leadscore_events_total"))

def ticks():
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            s = open(f"/proc/{pid}/task/{t}/stat").read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        out[t] = (s[s.index("(") + 1:s.rindex(")")], int(fields[11]) + int(fields[12]))   # utime + stime
    return out

hz = os.sysconf("SC_CLK_TCK")
while (c := count()) == 0:
    time.sleep(0.005)
t0, n0 = time.monotonic(), c
first = prev = ticks()
last = t0
while (c := count()) < n:
    time.sleep(0.1)
    now_ticks, now = ticks(), time.monotonic()
    busy = sorted(((t, v[1] - prev.get(t, (v[0], 0))[1]) for t, v in now_ticks.items()), key=lambda x: -x[1])[:6]
    share = " ".join(f"{t}:{100 * d / hz / (now - last):.0f}%" for t, d in busy)
    print(f"{now - t0:5.1f}s {int(c) // 1000:6d}k  {share}", file=sys.stderr)
    prev, last = now_ticks, now
t1 = time.monotonic()
total = sorted(((t, v[0], v[1] - first.get(t, (v[0], 0))[1]) for t, v in ticks().items()), key=lambda x: -x[2])[:8]
print("ticks per thread: " + " ".join(f"{t}:{name}:{d}" for t, name, d in total), file=sys.stderr)
print(f"{(n - n0) / (t1 - t0):.0f}")
