#!/usr/bin/env bash
# Fault activation latency: from a fault's scheduled instant to its confirmed effect, over
# many injections, read back from the journals. Also partition and heal of a 32-host lab.
#   kill       50 SIGKILLs of distinct local processes (sleep), one every 100 ms
#   partition  50 partitions {isolate} in a 3-host lab, one every 500 ms (each held 200 ms)
#   32 hosts   one {shape: halves} partition of a 32-host lab: inject→confirmed, revert→healed
# Needs root. BENCH_N (default 50) sets the injection counts.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${BENCH_N:-50}
fl="$(scripts/release-build.sh)"
scratch=$(mktemp -d /tmp/faultline-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for l in bk bp b32; do "$fl" lab down "$l" --lab-dir "$scratch/labs" >/dev/null 2>&1 || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# kill: n sleepers with distinct arguments, one fault each
{
  echo "version: 1"; echo "title: kill activation"; echo "duration: $(( n * 100 + 500 ))ms"; echo "faults:"
  for i in $(seq "$n"); do
    sleep "600.$i" & pids+=($!) && disown $!  # disowned: their SIGKILL is the point, not news
    echo "  - {at: $(( i * 100 ))ms, kill: {process: {cmdline: '^sleep 600\\.$i\$'}, signal: KILL}}"
  done
} > "$scratch/kill.yaml"
"$fl" run "$scratch/kill.yaml" --quiet --state-dir "$scratch/state" --out "$scratch/r-kill" >/dev/null || true

# partition: a 3-host lab without services
lab() { # name octet hosts
  echo "lab: $1"; echo "subnet: 198.18.$2.0/24"; echo "hosts:"
  for i in $(seq "$3"); do echo "  h$i: {address: 198.18.$2.$(( 10 + i ))}"; done
}
lab bp 250 3 > "$scratch/bp.yaml"
{
  echo "version: 1"; echo "title: partition activation"; echo "lab: bp.yaml"; echo "duration: $(( n * 500 + 500 ))ms"; echo "faults:"
  for i in $(seq "$n"); do echo "  - {at: $(( i * 500 - 300 ))ms, duration: 200ms, partition: {isolate: h$(( i % 3 + 1 ))}}"; done
} > "$scratch/part.yaml"
"$fl" run "$scratch/part.yaml" --quiet --state-dir "$scratch/state" --out "$scratch/r-part" --lab-dir "$scratch/labs" >/dev/null || true

# 32 hosts
lab b32 251 32 > "$scratch/b32.yaml"
start=$(date +%s.%N)
"$fl" lab up "$scratch/b32.yaml" --lab-dir "$scratch/labs" >/dev/null
up=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")
printf 'version: 1\ntitle: 32 hosts\nlab: b32.yaml\nduration: 3s\nfaults:\n  - {name: halves, at: 500ms, duration: 1s, partition: {shape: halves, seed: 1}}\n' > "$scratch/p32.yaml"
"$fl" run "$scratch/p32.yaml" --quiet --state-dir "$scratch/state" --out "$scratch/r-32" --lab-dir "$scratch/labs" >/dev/null || true
start=$(date +%s.%N)
"$fl" lab down b32 --lab-dir "$scratch/labs" >/dev/null
down=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$start" "$(date +%s.%N)")

python3 - "$scratch" "$up" "$down" <<'PY'
import json, statistics, sys
scratch, up, down = sys.argv[1], sys.argv[2], sys.argv[3]
def journal(name): return json.load(open(f"{scratch}/{name}/latest/journal.json"))
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
import datetime
out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
for label, name, key in (("kill", "r-kill", "kill"), ("partition (3 hosts)", "r-part", "partition_3_hosts")):
    j = journal(name)
    lat = [(f["confirmed_at"] - f["scheduled_at"]) / 1e6 for f in j["faults"] if f.get("confirmed")]
    start = [(f["injected_at"] - f["scheduled_at"]) / 1e6 for f in j["faults"] if f.get("injected_at")]
    print(f"{label:<22} n={len(lat):<3} scheduled→confirmed ms: min {min(lat):.2f}  median {statistics.median(lat):.2f}  p99 {pct(lat, 99):.2f}  max {max(lat):.2f}"
          f"   (scheduled→injected: median {statistics.median(start):.2f})   verdict {j['verdict']}")
    out[key] = {"n": len(lat), "confirmed_ms_min_median_p99_max": [min(lat), statistics.median(lat), pct(lat, 99), max(lat)],
                     "injected_ms_median": statistics.median(start), "verdict": j["verdict"]}
j = journal("r-32")
f = j["faults"][0]
ev = {e["what"]: e["at"] for e in j["events"]}
print(f"32-host lab: lab up {up}s, lab down {down}s; halves partition scheduled→confirmed {(f['confirmed_at'] - f['scheduled_at']) / 1e6:.1f} ms,"
      f" revert→healed confirmed {(ev['healed halves'] - f['scheduled_at'] - 1e9) / 1e6:.1f} ms after its scheduled heal; verdict {j['verdict']}")
out["lab_32_hosts"] = {"up_s": float(up), "down_s": float(down), "confirmed_ms": (f["confirmed_at"] - f["scheduled_at"]) / 1e6,
                       "healed_after_scheduled_ms": (ev["healed halves"] - f["scheduled_at"] - 1e9) / 1e6, "verdict": j["verdict"]}
json.dump(out, open("bench/results/activation.json", "w"), indent=2)
PY
