#!/usr/bin/env bash
# report.html of a 1,000,000-sample run (issue 21: under 5 MB, rendered by Chromium in under
# 2 s), against the peer a renderer without per-pixel buckets would make: the same samples,
# one SVG element each.
#   journal   one probe, 1,000,000 samples 10 ms apart (2.8 hours), 2,000 isolated failures,
#             one 60 s outage with a fault held across it, latencies from 1 ms to 2 s
#   render    `faultline report JOURNAL --format html` (release build): wall time, peak RSS
#   page      report.html's size; Chromium (headless, Debian's) from navigation to the load
#             event, as scripts/browser-check.py measures it, REPEATS times
#   peer      a page with one <rect> per sample: its size and Chromium's load time
set -euo pipefail
cd "$(dirname "$0")/.."
fl="$(scripts/release-build.sh)"
repeats="${REPEATS:-3}"
scratch=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$scratch"' EXIT
python3 - "$scratch" <<'PY'
import json, random, sys
d = sys.argv[1]
random.seed(21)
n, ms = 1_000_000, 1_000_000
scheduled = [i * 10 * ms for i in range(n)]
started = [t + random.randrange(0, 200_000) for t in scheduled]
ok = [True] * n
for i in random.sample(range(n), 2_000):
    ok[i] = False
out_from, out_to = 500_000, 506_000
for i in range(out_from, out_to):
    ok[i] = False
latency = [int(ms * (2 ** random.uniform(0, 11))) if o else 2_000 * ms for o in ok]
probe = {"probe": "web", "kind": "http", "interval": 10 * ms, "scheduled": scheduled, "started": started,
         "latency": latency, "ok": ok, "failures": [{"reason": "timeout", "count": ok.count(False), "first_at": started[ok.index(False)]}]}
end = scheduled[-1] + 2_000 * ms
journal = {
    "schema": "faultline.journal/1", "run_id": "bench-1m", "verdict": "failed", "exit_code": 1, "reasons": [],
    "experiment": {"title": "a million samples", "tags": [], "file": "bench.yaml", "duration_ns": end},
    "started_at": "2026-12-07T00:00:00.000Z", "finished_at": "2026-12-07T02:46:42.000Z", "duration_ns": end,
    "events": [{"at": started[out_from], "what": "inject outage"}, {"at": started[out_to], "what": "reverted outage"}],
    "steady_state": {"before": [], "after": []},
    "faults": [{"name": "outage", "kind": "partition", "host": "n1", "target": "isolate n1", "scheduled_at": scheduled[out_from],
                "injected_at": started[out_from], "confirmed": True, "confirmed_at": started[out_from] + ms,
                "reverted_at": started[out_to]}],
    "actions": [],
    "checks": [{"name": "availability(web)", "passed": False, "expected": "≥ 99.9%", "measured": f"{100 * ok.count(True) / n:.2f}%"}],
    "probes": [probe], "residue": [], "phases": [{"name": "fault phase", "start_at": 0, "end_at": end}],
}
with open(f"{d}/journal.json", "w") as f:
    json.dump(journal, f, separators=(",", ":"))
# The peer: every sample its own element, as a plot without buckets draws it.
w, span = 1200.0, float(end)
with open(f"{d}/peer.html", "w") as f:
    f.write('<!doctype html><html><head><meta charset="utf-8"><title>peer</title></head><body><svg id="timeline" '
            f'xmlns="http://www.w3.org/2000/svg" width="{int(w)}" height="60">')
    for t, o in zip(started, ok):
        f.write(f'<rect x="{t / span * w:.2f}" y="0" width="0.02" height="20" fill="{"#2e7d32" if o else "#c62828"}"/>')
    f.write("</svg></body></html>")
PY
journal_mb=$(du -m "$scratch/journal.json" | cut -f1)
render=$( { /usr/bin/time -f "%e %M" "$fl" report "$scratch/journal.json" --format html >/dev/null; } 2>&1 | tail -1)
loads=(); peers=()
for _ in $(seq "$repeats"); do
  loads+=("$(python3 scripts/browser-check.py "$scratch/report.html" "$scratch/shot.png" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert not d["requests"] and not d["errors"], d; print(d["page_load_ms"])')")
  peers+=("$(python3 scripts/browser-check.py "$scratch/peer.html" "$scratch/peer.png" | python3 -c 'import json,sys; print(json.load(sys.stdin)["page_load_ms"])')")
done
python3 - "$journal_mb" "$render" "$(stat -c %s "$scratch/report.html")" "$(stat -c %s "$scratch/peer.html")" "${loads[*]}" "${peers[*]}" <<'PY'
import statistics, sys
journal_mb, render, size, peer_size, loads, peers = sys.argv[1:]
size, peer_size = int(size), int(peer_size)
secs, rss = render.split()
loads = sorted(int(x) for x in loads.split()); peers = sorted(int(x) for x in peers.split())
fmt = lambda v: f"{v[0]} / {statistics.median(v):g} / {v[-1]}"
print(f"1,000,000 samples (journal {journal_mb} MB)")
print(f"  faultline report --format html   {float(secs):.2f} s, peak RSS {int(rss) // 1024} MiB")
print(f"  report.html                      {size / 1e6:.3f} MB   (goal < 5 MB)")
print(f"  Chromium, navigation → load      {fmt(loads)} ms (min / median / max of {len(loads)}; goal < 2000 ms)")
print(f"  peer: one <rect> per sample      {peer_size / 1e6:.1f} MB, Chromium {fmt(peers)} ms")
ok = size < 5e6 and max(loads) < 2000
print("  goals: " + ("met" if ok else "NOT MET"))
sys.exit(0 if ok else 1)
PY
