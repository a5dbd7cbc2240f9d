"""Single-client search load for profiling and A/B runs (not part of `cargo bench`).

usage: python3 benches/search_load.py http://127.0.0.1:PORT SECONDS [PATH_PREFIX [OFFSET]]

Sends the CSL papers' own keywords (one or two per query, 5,215 distinct queries) one after the
other over one keep-alive connection, starting at query OFFSET, and prints the rate, p50 and mean
latency. Use a different OFFSET for a warm-up than for the measured run, so that no measured query
is answered from the server's cache. The corpus is read at run time from ../shared/data/csl/.
"""
import http.client, json, os, sys, time, urllib.parse
addr = sys.argv[1]; secs = float(sys.argv[2])
host, port = addr.replace("http://","").split(":")
qs = []
for i, line in enumerate(open(os.path.join(os.path.dirname(__file__), "../../shared/data/csl/csl_docs.jsonl"))):
    d = json.loads(line)
    kw = d.get("keywords") or []
    if not kw: continue
    q = f"{kw[0]} {kw[1]}" if len(kw) > 1 and i % 2 == 0 else kw[0]
    qs.append(q)
qs = sorted(set(qs))
c = http.client.HTTPConnection(host, int(port))
off = int(sys.argv[4]) if len(sys.argv) > 4 else 0
n = 0; t0 = time.time(); lat = []
while time.time() - t0 < secs:
    q = qs[(off + n) % len(qs)]; n += 1
    s = time.time()
    c.request("GET", (sys.argv[3] if len(sys.argv)>3 else "/api/v1/search?") + urllib.parse.urlencode({"q": q}))
    r = c.getresponse(); r.read()
    lat.append(time.time() - s)
lat.sort()
print(n, "requests", n/secs, "/s  p50 ms", lat[len(lat)//2]*1000, "mean", sum(lat)/len(lat)*1000)
