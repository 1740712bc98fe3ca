#!/usr/bin/env bash
# Probe throughput and timing precision, side by side with Chaos Toolkit and curl, in one run.
#   rate        faultline HTTP probes/s, sequential and concurrent (faultline-bench probe-rate)
#   peer        Chaos Toolkit: a method of 300 HTTP probes, first probe's start to last one's end
#               (from its journal, so its ~0.3 s start-up is not counted)
#   floor       curl: 10,000 sequential keep-alive requests in one process
#   precision   lateness (actual − scheduled start) of TCP probes at 1 ms and 10 ms intervals
# Each rate is measured `reps` times, the tools taking turns, and reported as min / median / max;
# ratios are of the medians. Precision is the distribution over one run's samples.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
url=http://127.0.0.1:18082/

# BENCH_SMOKE=1 (make bench-smoke): shorter windows, fewer repetitions and Chaos Toolkit probes.
secs=2; many=300; reps=5
[ -z "${BENCH_SMOKE:-}" ] || { secs=1; many=100; reps=3; }

python3 - "$many" > "$scratch/ctk.json" <<'PY'
import json, sys
n = int(sys.argv[1])
probe = {"type": "probe", "name": "web", "tolerance": 200, "provider": {"type": "http", "url": "http://127.0.0.1:18082/", "timeout": 1}}
print(json.dumps({"version": "1.0.0", "title": f"{n} probes", "description": "probe rate", "method": [dict(probe, name=f"web{i}") for i in range(n)]}))
PY
ctk() { # probes/s of the method, from the journal; fails unless every probe succeeded
  (cd "$scratch" && "$chaos" --no-version-check --no-log-file run --journal-path "$scratch/ctk-journal.json" ctk.json >/dev/null 2>&1) || true
  python3 - "$scratch/ctk-journal.json" <<'PY'
import json, sys
from datetime import datetime
run = json.load(open(sys.argv[1]))["run"]
if not run or any(r["status"] != "succeeded" for r in run):
    raise SystemExit("bench: Chaos Toolkit's probes did not all succeed")
t = lambda s: datetime.fromisoformat(s).timestamp()
print(len(run) / (t(run[-1]["end"]) - t(run[0]["start"])))
PY
}

seq=() con=() ctk_rate=() curl_rate=()
for _ in $(seq "$reps"); do
  seq+=("$("$bench" probe-rate --url "$url" --concurrency 1 --seconds $secs | cut -d' ' -f1)")
  con+=("$("$bench" probe-rate --url "$url" --concurrency 8 --seconds $secs | cut -d' ' -f1)")
  ctk_rate+=("$(ctk)")
  t0=$(date +%s.%N); curl -s -o /dev/null "$url?[1-10000]"; t1=$(date +%s.%N)
  curl_rate+=("$(python3 -c "import sys; print(10000 / (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$t1")")
done
join() { local IFS=,; echo "$*"; }

cat > "$scratch/precision.yaml" <<YAML
version: 1
title: probe timing precision
duration: 3s
probes:
  - {name: every-1ms, interval: 1ms, tcp: "127.0.0.1:18082"}
  - {name: every-10ms, interval: 10ms, tcp: "127.0.0.1:18082"}
YAML
"$fl" run "$scratch/precision.yaml" --quiet --state-dir "$scratch/state" --out "$scratch/r" >/dev/null

python3 - "$scratch" "$(join "${seq[@]}")" "$(join "${con[@]}")" "$(join "${ctk_rate[@]}")" "$(join "${curl_rate[@]}")" <<'PY'
import json, statistics, sys
scratch = sys.argv[1]
seq, con, ctk, curl = ([float(x) for x in a.split(",")] for a in sys.argv[2:6])
mmm = lambda xs: [round(min(xs)), round(statistics.median(xs)), round(max(xs))]
show = lambda xs: " / ".join(f"{x:,}" for x in mmm(xs))
print(f"{'figure (min / median / max of ' + str(len(seq)) + ')':<34}{'faultline':<26}{'peer':<54}ratio")
print(f"{'HTTP probes/s, sequential':<34}{show(seq):<26}{'Chaos Toolkit ' + show(ctk):<54}{statistics.median(seq) / statistics.median(ctk):.0f}x")
print(f"{'HTTP probes/s, 8 concurrent':<34}{show(con):<26}{'curl CLI sequential ' + show(curl) + ' (floor)':<54}{statistics.median(con) / statistics.median(curl):.1f}x")
out = {"probe_rate": {"sequential": mmm(seq), "concurrent_8": mmm(con), "chaos_sequential": mmm(ctk), "curl_sequential": mmm(curl)}, "precision": {}}
j = json.load(open(f"{scratch}/r/latest/journal.json"))
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
for p in j["probes"]:
    late = [(a - s) / 1e3 for a, s in zip(p["started"], p["scheduled"])]
    skipped = max(0, round(3e9 / p["interval"]) - len(late))
    print(f"{'lateness at ' + p['probe'] + ', µs':<34}min {min(late):.0f}  median {statistics.median(late):.0f}  p99 {pct(late, 99):.0f}  max {max(late):.0f}   ({len(late)} samples, {skipped} slots skipped)")
    out["precision"][p["probe"]] = {"min_us": min(late), "median_us": statistics.median(late), "p99_us": pct(late, 99), "max_us": max(late), "samples": len(late)}
json.dump(out, open("bench/results/probes.json", "w"), indent=2)
PY
