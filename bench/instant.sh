#!/usr/bin/env bash
# Faults of one instant: how late each is injected (scheduled → injected, from the journals),
# with 2, 8 and 32 pauses due at one instant, repeated over BENCH_INSTANTS instants (default 10):
#   one host    N local processes (sleep), one agent
#   N hosts     a lab of N hosts, one process paused on each (N agents)
# Needs root. Prints a line per case and writes bench/results/instant.json.
set -euo pipefail
cd "$(dirname "$0")/.."
instants=${BENCH_INSTANTS:-10}
fl="$(scripts/release-build.sh)"
scratch=$(mktemp -d /var/tmp/faultline-bench-instant.XXXXXX)
# Ledgers where a run keeps them by default, /run, which is a tmpfs on a Linux host (FHS);
# this machine's /run is on its ext4 root, where the ledger's fsync alone added ~1 ms to an
# instant, so the state directory is a tmpfs of its own. A lab host's are in its own /run.
state=$(mktemp -d /run/faultline-bench-instant.XXXXXX)
mount -t tmpfs -o size=64m,mode=0700 faultline-bench-instant "$state"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for n in 2 8 32; do "$fl" lab down "bi$n" --lab-dir "$scratch/labs" >/dev/null 2>&1 || true; done
  umount "$state" 2>/dev/null || true
  rm -rf "$scratch" "$state"
}
trap cleanup EXIT
mkdir -p bench/results

experiment() { # title n faults-per-instant-generator
  echo "version: 1"; echo "title: $1"; echo "duration: $(( instants * 500 + 500 ))ms"
}

for n in 2 8 32; do
  # one host: n sleepers with distinct arguments
  for i in $(seq "$n"); do sleep "900.$i" & pids+=($!) && disown $!; done
  {
    experiment "$n at one instant, one host"; echo "faults:"
    for r in $(seq 0 $(( instants - 1 ))); do
      for i in $(seq "$n"); do
        echo "  - {name: p$r-$i, at: $(( 200 + r * 500 ))ms, duration: 200ms, pause: {process: {cmdline: '^sleep 900\\.$i\$'}}}"
      done
    done
  } > "$scratch/local$n.yaml"
  "$fl" run "$scratch/local$n.yaml" --quiet --state-dir "$state" --out "$scratch/r-local$n" >/dev/null || true
  # n hosts: a lab whose hosts each run one sleeper
  {
    echo "lab: bi$n"; echo "subnet: 198.18.$(( 213 + n / 8 )).0/24"; echo "hosts:"
    for i in $(seq "$n"); do
      echo "  h$i:"; echo "    address: 198.18.$(( 213 + n / 8 )).$(( 10 + i ))"
      echo "    services: [{name: s, argv: [sleep, '900']}]"
    done
  } > "$scratch/bi$n.yaml"
  {
    experiment "$n at one instant, $n hosts"; echo "lab: bi$n.yaml"; echo "faults:"
    for r in $(seq 0 $(( instants - 1 ))); do
      for i in $(seq "$n"); do
        echo "  - {name: p$r-$i, at: $(( 200 + r * 500 ))ms, duration: 200ms, pause: {host: h$i, process: sleep}}"
      done
    done
  } > "$scratch/lab$n.yaml"
  "$fl" run "$scratch/lab$n.yaml" --quiet --state-dir "$state" --out "$scratch/r-lab$n" --lab-dir "$scratch/labs" >/dev/null || true
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pids=()
done

python3 - "$scratch" "$instants" <<'PY'
import json, statistics, sys, datetime
scratch, instants = sys.argv[1], int(sys.argv[2])
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "instants": instants}
for n in (2, 8, 32):
    for where, name in (("one host", f"r-local{n}"), (f"{n} hosts", f"r-lab{n}")):
        j = json.load(open(f"{scratch}/{name}/latest/journal.json"))
        late = [(f["injected_at"] - f["scheduled_at"]) / 1e6 for f in j["faults"] if f.get("injected_at") is not None]
        spread = []
        for r in range(instants):
            g = [(f["injected_at"] - f["scheduled_at"]) / 1e6 for f in j["faults"] if f["name"].startswith(f"p{r}-") and f.get("injected_at") is not None]
            if g: spread.append(max(g) - min(g))
        print(f"{n:>2} faults at one instant, {where:<9} n={len(late):<4} scheduled→injected ms: median {statistics.median(late):.2f}"
              f"  p99 {pct(late, 99):.2f}  max {max(late):.2f}   first→last within an instant: median {statistics.median(spread):.2f}"
              f"  max {max(spread):.2f}   verdict {j['verdict']}")
        out[f"{n}_{'one_host' if where == 'one host' else 'hosts'}"] = {
            "n": len(late), "late_ms_median_p99_max": [statistics.median(late), pct(late, 99), max(late)],
            "spread_ms_median_max": [statistics.median(spread), max(spread)], "verdict": j["verdict"]}
json.dump(out, open("bench/results/instant.json", "w"), indent=2)
PY
