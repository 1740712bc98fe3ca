# Sourced by the benchmark scripts and scripts/hot-functions.sh: nginx on 127.0.0.1:18082
# answering `200 ok` from memory (bench/nginx.conf).
#   start_nginx DIR   starts it with its files under DIR/nginx and waits until it answers;
#                     refuses when something else listens there (it would be measured instead)
#   stop_nginx        stops it, if it was started (for the caller's EXIT trap)
start_nginx() {
  ! (exec 3<>/dev/tcp/127.0.0.1/18082) 2>/dev/null || { echo "$0: 127.0.0.1:18082 is in use; stop what listens there" >&2; return 1; }
  mkdir -p "$1/nginx/tmp"
  nginx -p "$1/nginx" -c "$PWD/bench/nginx.conf" &
  nginx_pid=$!
  for _ in $(seq 100); do curl -fsS http://127.0.0.1:18082/ >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "$0: nginx did not answer on 127.0.0.1:18082" >&2
  return 1
}
stop_nginx() {
  [ -z "${nginx_pid:-}" ] || { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
}
