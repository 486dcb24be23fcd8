#!/usr/bin/env python3
"""Times a daemon draining N events: polls GET /metrics every 50 ms from one process (curl in a shell loop
cost a quarter of the machine's CPU and slowed the daemon it measured), from the first processed events until
leadscore_events_total reaches N. Prints the events per second over that span."""
import http.client, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def count():
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in body.splitlines() if l.startswith("leadscore_events_total"))

while (c := count()) == 0:
    time.sleep(0.005)
t0, n0 = time.monotonic(), c
while (c := count()) < n:
    time.sleep(0.05)
t1 = time.monotonic()
print(f"{(n - n0) / (t1 - t0):.0f}")
