# Shared set-up of the benchmark scripts (sourced): the release binary ($fl), the benchmark-only
# commands ($bench, bench/FaultlineBench), Chaos Toolkit in bench/.venv ($chaos), a scratch
# folder ($scratch, removed on exit unless KEEP=1) and nginx on 127.0.0.1:18082 answering from
# memory (stopped on exit).
fl="$(scripts/release-build.sh)"
bench="$(scripts/release-build.sh faultline-bench)"
venv=bench/.venv
[ -x "$venv/bin/chaos" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q chaostoolkit==1.19.0; }
chaos="$PWD/$venv/bin/chaos"
scratch=$(mktemp -d /tmp/faultline-bench.XXXXXX)
mkdir -p bench/results
source bench/nginx.sh
trap 'stop_nginx; [ -n "${KEEP:-}" ] || rm -rf "$scratch"' EXIT
start_nginx "$scratch"
