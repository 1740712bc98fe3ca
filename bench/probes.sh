#!/usr/bin/env bash
# Probe throughput and timing precision, side by side with Chaos Toolkit and curl, in one run.
#   rate        faultline HTTP probes/s, sequential and concurrent (faultline probe-rate)
#   peer        Chaos Toolkit: marginal cost of one HTTP probe (a method of 300 probes minus 100)
#   floor       curl: 10,000 sequential keep-alive requests in one process
#   precision   lateness (actual − scheduled start) of TCP probes at 1 ms and 10 ms intervals
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
url=http://127.0.0.1:18082/

# BENCH_SMOKE=1 (make bench-smoke): shorter windows and fewer Chaos Toolkit probes.
secs=3; few=100; many=300
[ -z "${BENCH_SMOKE:-}" ] || { secs=1; few=20; many=60; }
seq=$("$fl" probe-rate --url "$url" --concurrency 1 --seconds $secs | cut -d' ' -f1)
con=$("$fl" probe-rate --url "$url" --concurrency 8 --seconds $secs | cut -d' ' -f1)

ctk() { # n probes in the method
  python3 - "$1" > "$scratch/ctk$1.json" <<'PY'
import json, sys
n = int(sys.argv[1])
probe = {"type": "probe", "name": "web", "tolerance": 200, "provider": {"type": "http", "url": "http://127.0.0.1:18082/", "timeout": 1}}
print(json.dumps({"version": "1.0.0", "title": f"{n} probes", "description": "probe rate", "method": [dict(probe, name=f"web{i}") for i in range(n)]}))
PY
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$scratch" && "$chaos" --no-version-check --no-log-file run --journal-path "$scratch/j$1.json" "ctk$1.json" >/dev/null 2>&1)
  t1=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$t1"
}
c100=$(ctk $few); c300=$(ctk $many)
ctk_rate=$(python3 -c "import sys; print(round(($many - $few) / (float(sys.argv[2]) - float(sys.argv[1]))))" "$c100" "$c300")

t0=$(date +%s.%N); curl -s -o /dev/null "$url?[1-10000]"; t1=$(date +%s.%N)
curl_rate=$(python3 -c "import sys; print(round(10000 / (float(sys.argv[2]) - float(sys.argv[1]))))" "$t0" "$t1")

cat > "$scratch/precision.yaml" <<YAML
version: 1
title: probe timing precision
duration: 3s
probes:
  - {name: every-1ms, interval: 1ms, tcp: "127.0.0.1:18082"}
  - {name: every-10ms, interval: 10ms, tcp: "127.0.0.1:18082"}
YAML
"$fl" run "$scratch/precision.yaml" --quiet --state-dir "$scratch/state" --out "$scratch/r" >/dev/null

python3 - "$scratch" "$seq" "$con" "$ctk_rate" "$curl_rate" <<'PY'
import json, statistics, sys
scratch, seq, con, ctk, curl = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"{'figure':<42}{'faultline':<22}{'peer':<34}ratio")
print(f"{'HTTP probes/s, sequential':<42}{seq:<22.0f}{f'Chaos Toolkit {ctk:.0f}':<34}{seq / ctk:.0f}x")
print(f"{'HTTP probes/s, 8 concurrent':<42}{con:<22.0f}{f'curl CLI sequential {curl:.0f} (floor)':<34}{con / curl:.1f}x")
out = {"probe_rate": {"sequential": seq, "concurrent_8": con, "chaos_sequential": ctk, "curl_sequential": curl}, "precision": {}}
j = json.load(open(f"{scratch}/r/latest/journal.json"))
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
for p in j["probes"]:
    late = [(a - s) / 1e3 for a, s in zip(p["started"], p["scheduled"])]
    skipped = max(0, round(3e9 / p["interval"]) - len(late))
    print(f"{'lateness at ' + p['probe'] + ', µs':<42}median {statistics.median(late):.0f}  p99 {pct(late, 99):.0f}  max {max(late):.0f}   ({len(late)} samples, {skipped} slots skipped)")
    out["precision"][p["probe"]] = {"median_us": statistics.median(late), "p99_us": pct(late, 99), "max_us": max(late), "samples": len(late)}
json.dump(out, open("bench/results/probes.json", "w"), indent=2)
PY
