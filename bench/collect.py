"""Folds the figures of probes.sh and checkers.sh into bench/results/latest.json (run.sh's)."""
import json
import os

results = "bench/results"
latest = json.load(open(f"{results}/latest.json")) if os.path.exists(f"{results}/latest.json") else {}
for part in ("probes", "checkers"):
    path = f"{results}/{part}.json"
    if os.path.exists(path):
        latest[part] = json.load(open(path))
json.dump(latest, open(f"{results}/latest.json", "w"), indent=2)
print(f"written: {results}/latest.json ({', '.join(sorted(latest))})")
