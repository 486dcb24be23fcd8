#!/usr/bin/env python3
"""Times a daemon draining N events, from its first processed events until leadscore_events_total reaches N.
Prints the events per second over that span.

The start is found by polling GET /metrics every 5 ms while nothing has been processed (the daemon is joining
its group then). The end comes from the daemon's own leadscore_last_event_processed_timestamp_seconds, read once
the count is reached, so during the drain one scrape every 0.5 s suffices: scraping every 50 ms cost the daemon
~10 % of the machine (HTTP wake-ups across threads), which the raw drain it is compared with does not pay.
An older daemon without that gauge is timed the old way (50 ms polls, end = when the count is seen)."""
import http.client, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def scrape():
    conn.request("GET", "/metrics")
    return conn.getresponse().read().decode().splitlines()

def count(lines):
    return sum(float(l.rsplit(" ", 1)[1]) for l in lines if l.startswith("leadscore_events_total"))

while True:
    before = time.time()
    lines = scrape()
    if (c := count(lines)) > 0:
        break
    time.sleep(0.005)
t0, n0 = (before + time.time()) / 2, c
# Builds older than the gauge: the end is when a 50 ms poll sees the count (the old, costlier clock).
gauge = "leadscore_last_event_processed_timestamp_seconds"
has_gauge = any(l.startswith(gauge) for l in lines)
while count(lines := scrape()) < n:
    time.sleep(0.5 if has_gauge else 0.05)
t1 = next(float(l.rsplit(" ", 1)[1]) for l in lines if l.startswith(gauge)) if has_gauge else time.time()
print(f"{(n - n0) / (t1 - t0):.0f}")
