#!/usr/bin/env bash
# make bench: faultline's own costs, side by side with Chaos Toolkit in the same run.
#   start   — `faultline --version` vs `chaos --help`
#   run     — the same trivial experiment in both tools (HTTP steady-state probe, no-op
#             process action, no-op rollback), whole process, and its peak RSS
# Each figure: min / median / max over repeated runs (hyperfine), and the ratio to the peer.
# BENCH_RUNS (default 30) sets the repetitions. Results: bench/results/latest.json.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-30}

command -v hyperfine >/dev/null && command -v nginx >/dev/null && [ -x /usr/bin/time ] || {
  [ "$(id -u)" -eq 0 ] || { echo "bench: needs hyperfine, nginx and time (apt); run as root to install them" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine nginx-light time >/dev/null
}
source bench/common.sh

cp bench/trivial-ctk.json experiments/trivial.yaml "$scratch/"
hf() { hyperfine --style none --warmup 3 --runs "$runs" --export-json "$1" "${@:2}" >/dev/null; }
hf "$scratch/start.json" -n faultline "$fl --version" -n chaos "$chaos --help"
hf "$scratch/run.json" \
  -n faultline "cd $scratch && $fl run trivial.yaml --quiet --state-dir $scratch/state --out $scratch/reports" \
  -n chaos "cd $scratch && $chaos --no-version-check --no-log-file run --journal-path $scratch/ctk.json trivial-ctk.json"

# Peak resident set size (the kernel's ru_maxrss, through GNU time: a small parent, so the
# figure is the child's own; a child spawned from Python starts from Python's ~14 MiB).
# Five runs each, alternating: one run's figure moves by ~0.5 MiB with the page cache's state.
# The floor for any libcurl-based prober: the curl program itself making the same request.
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
fl_rss=() ctk_rss=() curl_rss=()
for _ in 1 2 3 4 5; do
  fl_rss+=("$(cd "$scratch" && rss "$fl" run trivial.yaml --quiet --state-dir "$scratch/state" --out "$scratch/reports")")
  ctk_rss+=("$(cd "$scratch" && rss "$chaos" --no-version-check --no-log-file run --journal-path "$scratch/ctk.json" trivial-ctk.json)")
  curl_rss+=("$(rss curl -s -o /dev/null http://127.0.0.1:18082/)")
done
fl_rss=$(IFS=,; echo "${fl_rss[*]}") ctk_rss=$(IFS=,; echo "${ctk_rss[*]}") curl_rss=$(IFS=,; echo "${curl_rss[*]}")

python3 - "$scratch" "$fl_rss" "$ctk_rss" "$runs" "$curl_rss" <<'PY'
import json, statistics, sys, platform, datetime
scratch, runs = sys.argv[1], int(sys.argv[4])
fl_rss, ctk_rss, curl_rss = ([int(x) / 1024 for x in a.split(",")] for a in (sys.argv[2], sys.argv[3], sys.argv[5]))
out = {"date": datetime.datetime.utcnow().isoformat(timespec="seconds") + "Z", "runs": runs,
       "machine": f"{platform.machine()}, {open('/proc/cpuinfo').read().count('processor')} cpus", "figures": {}}
print(f"{'figure':<34}{'faultline (min / median / max)':<34}{'chaos toolkit (min / median / max)':<38}ratio")
for name in ("start", "run"):
    res = {r["command"]: r for r in json.load(open(f"{scratch}/{name}.json"))["results"]}
    f, c = res["faultline"], res["chaos"]
    ms = lambda r: [round(x * 1000, 2) for x in (min(r["times"]), statistics.median(r["times"]), max(r["times"]))]
    fm, cm = ms(f), ms(c)
    ratio = round(cm[1] / fm[1], 1)
    label = {"start": "start (--version / --help), ms", "run": "trivial experiment, whole run, ms"}[name]
    print(f"{label:<34}{' / '.join(map(str, fm)):<34}{' / '.join(map(str, cm)):<38}{ratio}x")
    out["figures"][name] = {"faultline_ms": fm, "chaos_ms": cm, "ratio": ratio}
mmm = lambda a: [round(x, 1) for x in (min(a), statistics.median(a), max(a))]
print(f"{'peak RSS of a run (5), MiB':<34}{' / '.join(map(str, mmm(fl_rss))):<34}{' / '.join(map(str, mmm(ctk_rss))):<38}"
      f"{statistics.median(ctk_rss) / statistics.median(fl_rss):.1f}x")
print(f"{'  floor: curl, one GET, MiB':<34}{' / '.join(map(str, mmm(curl_rss))):<34}")
out["figures"]["peak_rss_mib"] = {"faultline": mmm(fl_rss), "chaos": mmm(ctk_rss), "curl_one_get": mmm(curl_rss)}
json.dump(out, open("bench/results/latest.json", "w"), indent=2)
print("written: bench/results/latest.json")
PY
