#!/usr/bin/env bash
# make demo: the failover game-day from the seed story, on real Redis with Sentinel.
# Brings up a lab of three namespace hosts (a primary, two replicas, three Sentinels), kills
# the primary with SIGKILL, measures how long until writes succeed at the primary Sentinel
# announces, tears the lab down, and prints where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root: the lab's hosts are network and PID namespaces, and missing apt" >&2
  echo "demo: packages are installed. Run 'sudo make demo'." >&2
  exit 1
fi

scripts/install-deps.sh
echo "demo: building faultline (release)"
bin="$(scripts/release-build.sh)"

set +e
"$bin" run experiments/redis-sentinel-failover.yaml
code=$?
set -e
echo
echo "demo: finished with exit code $code; the report is reports/latest/report.md, the page reports/latest/report.html ($(readlink reports/latest))"
exit $code
