#!/usr/bin/env bash
# make demo: a real self-healing game-day on this machine.
# Starts a web server under the demo's own supervisord, runs
# experiments/supervised-web-heals.yaml (SIGKILL the server, expect it back), stops the
# supervisor again on every path, and prints where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root: it installs missing apt packages and keeps its ledger in /run/faultline." >&2
  echo "demo: run 'sudo make demo' (or install scripts/install-deps.sh's packages and run" >&2
  echo "      'faultline run experiments/supervised-web-heals.yaml --state-dir /tmp/faultline-state')." >&2
  exit 1
fi

scripts/install-deps.sh
echo "demo: building faultline (release)"
bin="$(scripts/release-build.sh)"

conf=experiments/local/supervisord.conf
mkdir -p /tmp/faultline-demo
stop_supervisor() {
  if [ -f /tmp/faultline-demo/supervisord.pid ]; then
    pid=$(cat /tmp/faultline-demo/supervisord.pid)
    supervisorctl -c "$conf" shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf /tmp/faultline-demo
}
trap stop_supervisor EXIT
stop_supervisor
mkdir -p /tmp/faultline-demo
supervisord -c "$conf"
echo "demo: waiting for the supervised web server on 127.0.0.1:18080"
for _ in $(seq 100); do
  supervisorctl -c "$conf" status web 2>/dev/null | grep -q RUNNING && \
    python3 -c 'import socket; socket.create_connection(("127.0.0.1", 18080), 0.2)' 2>/dev/null && break
  sleep 0.1
done

set +e
"$bin" run experiments/supervised-web-heals.yaml
code=$?
set -e
echo
echo "demo: finished with exit code $code; the report is reports/latest/report.md ($(readlink reports/latest))"
exit $code
