# Shared set-up of the benchmark scripts (sourced): the release binary ($fl), Chaos Toolkit in
# bench/.venv ($chaos), a scratch folder ($scratch, removed on exit unless KEEP=1) and nginx on
# 127.0.0.1:18082 answering from memory (stopped on exit).
fl="$(scripts/release-build.sh)"
venv=bench/.venv
[ -x "$venv/bin/chaos" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q chaostoolkit==1.19.0; }
chaos="$PWD/$venv/bin/chaos"
# Our nginx must be the one answering: another server on the port would be measured instead.
! (exec 3<>/dev/tcp/127.0.0.1/18082) 2>/dev/null || { echo "$0: 127.0.0.1:18082 is in use; stop what listens there" >&2; exit 1; }
scratch=$(mktemp -d /tmp/faultline-bench.XXXXXX)
mkdir -p "$scratch/nginx/tmp" bench/results
nginx -p "$scratch/nginx" -c "$PWD/bench/nginx.conf" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true; wait $nginx_pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$scratch"' EXIT
for _ in $(seq 100); do curl -fsS http://127.0.0.1:18082/ >/dev/null 2>&1 && break; sleep 0.05; done
