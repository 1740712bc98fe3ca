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

command -v hyperfine >/dev/null && command -v nginx >/dev/null || {
  [ "$(id -u)" -eq 0 ] || { echo "bench: needs hyperfine and nginx (apt); run as root to install them" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine nginx-light >/dev/null
}
source bench/common.sh

cp bench/trivial-ctk.json experiments/trivial.yaml "$scratch/"
hf() { hyperfine --style none --warmup 3 --runs "$runs" --export-json "$1" "${@:2}" >/dev/null; }
hf "$scratch/start.json" -n faultline "$fl --version" -n chaos "$chaos --help"
hf "$scratch/run.json" \
  -n faultline "cd $scratch && $fl run trivial.yaml --quiet --state-dir $scratch/state --out $scratch/reports" \
  -n chaos "cd $scratch && $chaos --no-version-check --no-log-file run --journal-path $scratch/ctk.json trivial-ctk.json"

# Peak resident set size of one run of each, from the kernel's rusage of the child.
rss() { python3 -c 'import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
fl_rss=$(cd "$scratch" && rss "$fl" run trivial.yaml --quiet --state-dir "$scratch/state" --out "$scratch/reports")
ctk_rss=$(cd "$scratch" && rss "$chaos" --no-version-check --no-log-file run --journal-path "$scratch/ctk.json" trivial-ctk.json)

python3 - "$scratch" "$fl_rss" "$ctk_rss" "$runs" <<'PY'
import json, statistics, sys, platform, datetime
scratch, fl_rss, ctk_rss, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
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
print(f"{'peak RSS of one run, MiB':<34}{fl_rss/1024:<34.1f}{ctk_rss/1024:<38.1f}{ctk_rss/fl_rss:.1f}x")
out["figures"]["peak_rss_mib"] = {"faultline": round(fl_rss / 1024, 1), "chaos": round(ctk_rss / 1024, 1)}
json.dump(out, open("bench/results/latest.json", "w"), indent=2)
print("written: bench/results/latest.json")
PY
