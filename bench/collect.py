"""Folds the figures of probes.sh, checkers.sh and activation.sh into bench/results/latest.json (run.sh's)."""
import json
import os

results = "bench/results"
latest = json.load(open(f"{results}/latest.json")) if os.path.exists(f"{results}/latest.json") else {}
for part in ("probes", "checkers", "activation"):
    path = f"{results}/{part}.json"
    if os.path.exists(path):
        latest[part] = json.load(open(path))
json.dump(latest, open(f"{results}/latest.json", "w"), indent=2)
print(f"written: {results}/latest.json ({', '.join(sorted(latest))})")

# The smoke run (make bench-smoke, in CI) fails when a figure is missing: the harness broke.
required = {
    "figures": ("start", "run", "peak_rss_mib"),
    "probes": ("probe_rate", "precision"),
    "checkers": ("write_check_1m_s_min_median_max", "linearizability_100k_10keys_s_min_median_max", "workload"),
}
missing = [f"{k}.{f}" for k, fs in required.items() for f in fs if f not in latest.get(k, {})]
if missing:
    raise SystemExit(f"bench: figures missing: {', '.join(missing)}")
