#!/usr/bin/env bash
# Checker speed and workload throughput, each with its reference in the same run.
#   write check     lost-write + convergence check of a generated 1,000,000-op history
#                   (goal <= 1 s), with replicas in the primary's order and in another order
#   linearizability 100,000 register operations: 10 keys / 4 clients, 1 key / 4 clients, and
#                   the same with one stale read (goal <= 5 s); 1 key / 16 clients is reported
#                   too, and is expected to end "unknown" at its budget
#   workload        RPUSH operations/s against a Redis on loopback, 1 and 4 clients, against
#                   redis-benchmark (Redis's own C client) with the same clients: the floor
set -euo pipefail
cd "$(dirname "$0")/.."
bench="$(scripts/release-build.sh faultline-bench)"
port=16399
pidfile=$(mktemp)
redis-server --port $port --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile "$pidfile" >/dev/null
trap 'kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"' EXIT
until redis-cli -p $port ping >/dev/null 2>&1; do sleep 0.05; done

# BENCH_SMOKE=1 (make bench-smoke): 3 repetitions, 1 s of workload, no 16-client search.
repeats=5; secs=3; rounds=3; requests=200000
[ -z "${BENCH_SMOKE:-}" ] || { repeats=3; secs=1; rounds=1; requests=50000; }
writes=$("$bench" checkers --repeats $repeats --register-ops 100000 --keys 10 --clients 4)
one_key=$("$bench" checkers --ops 10 --repeats $rounds --register-ops 100000 --keys 1 --clients 4 | tail -2)
wide="  (1 key, 16 clients: skipped in smoke mode)"
[ -n "${BENCH_SMOKE:-}" ] ||
  wide=$(/usr/bin/time -f "  (that process: peak RSS %M KiB)" "$bench" checkers --ops 10 --repeats 1 --register-ops 100000 --keys 1 --clients 16 2>&1 | tail -3)
# The workload and its floor take turns, `rounds` times for each client count.
work=()
for c in 1 4; do
  for _ in $(seq $rounds); do
    redis-cli -p $port del faultline:bench >/dev/null
    f=$("$bench" workload --redis 127.0.0.1:$port --concurrency $c --seconds $secs)
    redis-cli -p $port del mylist >/dev/null
    p=$(redis-benchmark -p $port -t rpush -n $requests -c $c -q 2>&1 | tr '\r' '\n' | grep 'requests per second' | tail -1)
    work+=("$c|$f|$p")
  done
done
python3 - "$writes" "$one_key" "$wide" "${work[@]}" <<'PY'
import json, re, statistics, sys
writes, one_key, wide, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
num = lambda pat, s: float(re.search(pat, s).group(1))
mmm = lambda pat, s: re.search(pat, s).group(1)  # "min/median/max" as printed
lines = writes.splitlines() + one_key.splitlines() + wide.splitlines()
for l in lines: print(l)
out = {
  "write_check_1m_s_min_median_max": mmm(r"check ([\d./]+) s; history", writes),
  "write_check_1m_reordered_s_min_median_max": mmm(r"another order: lost-write \+ convergence check ([\d./]+) s", writes),
  "history_bytes_per_op": num(r"\((\d+) bytes/op\)", writes),
  "linearizability_100k_10keys_s_min_median_max": mmm(r"10 keys, 4 clients: linearizability check ([\d./]+) s", writes),
  "linearizability_100k_10keys_stale_s_min_median_max": mmm(r"one stale read: linearizability check ([\d./]+) s", writes),
  "linearizability_100k_1key_s_min_median_max": mmm(r"1 keys, 4 clients: linearizability check ([\d./]+) s", one_key),
  "linearizability_100k_1key_stale_s_min_median_max": mmm(r"one stale read: linearizability check ([\d./]+) s", one_key),
  "workload": {},
}
show = lambda xs: " / ".join(f"{x:,.0f}" for x in (min(xs), statistics.median(xs), max(xs)))
print(f"{'figure (min / median / max)':<34}{'faultline':<26}{'redis-benchmark (floor)':<26}ratio")
for c in (1, 4):
    rows = [w.split("|", 2) for w in work if w.split("|")[0] == str(c)]
    f = [num(r"([\d.]+) ops/s", w) for _, w, _ in rows]
    r = [num(r"([\d.]+) requests per second", p) for _, _, p in rows]
    out["workload"][f"clients_{c}"] = {"ops_per_s": [min(f), statistics.median(f), max(f)],
        "redis_benchmark_per_s": [min(r), statistics.median(r), max(r)],
        "recorded_bytes_per_op": num(r"\((\d+) bytes/op recorded\)", rows[-1][1])}
    print(f"{f'RPUSH ops/s, {c} client(s)':<34}{show(f):<26}{show(r):<26}{statistics.median(f) / statistics.median(r):.2f}x")
json.dump(out, open("bench/results/checkers.json", "w"), indent=2)
PY
