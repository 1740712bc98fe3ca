#!/usr/bin/env bash
# The fault proxy with no toxic, side by side in one run with a direct connection, socat and
# HAProxy (mode tcp), all on loopback, all between the same two ends (faultline-bench tcp):
#   latency     round trips of 64 bytes, one at a time: p50 and p99, and what each middle adds
#               to the direct connection's (Toxiproxy publishes < 100 µs added)
#   throughput  4 GB client → sink, GB/s (10^9 bytes; Toxiproxy publishes ≈ 1 GB/s)
# Each figure is measured `reps` times with the middles taking turns; medians are reported.
# Goal (issue 13): ≤ 50 µs added p50 and ≥ 1.5 GB/s for faultline's proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
fl="$(scripts/release-build.sh)"
bench="$(scripts/release-build.sh faultline-bench)"
scratch=$(mktemp -d /tmp/faultline-proxy-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$scratch"' EXIT
mkdir -p bench/results

reps=5; count=20000; mb=4000
[ -z "${BENCH_SMOKE:-}" ] || { reps=1; count=5000; mb=1000; }

server=18300 fport=18301 sport=18302 hport=18303
"$bench" tcp serve --port $server & pids+=($!)
echo "[{\"name\": \"bench\", \"listen\": \"127.0.0.1:$fport\", \"upstream\": \"127.0.0.1:$server\"}]" > "$scratch/proxies.json"
"$fl" proxy --port 0 --config "$scratch/proxies.json" > "$scratch/proxy.out" & pids+=($!)
socat TCP-LISTEN:$sport,reuseaddr,fork,nodelay TCP:127.0.0.1:$server,nodelay & pids+=($!)
cat > "$scratch/haproxy.cfg" <<CFG
global
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:$hport
  option tcp-smart-accept
  default_backend up
backend up
  server s 127.0.0.1:$server
CFG
haproxy -f "$scratch/haproxy.cfg" -db > "$scratch/haproxy.out" 2>&1 & pids+=($!)
for p in $server $fport $sport $hport; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.05; done
done

declare -A names=([$server]=direct [$fport]=faultline [$sport]=socat [$hport]=haproxy)
order=($server $fport $sport $hport)
declare -A p50 p99 gbs
for _ in $(seq $reps); do
  for p in "${order[@]}"; do
    read -r _ a _ _ b _ < <("$bench" tcp latency --port $p --count $count)
    p50[$p]+="$a "; p99[$p]+="$b "
    read -r g _ < <("$bench" tcp throughput --port $p --megabytes $mb)
    gbs[$p]+="$g "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
out=bench/results/proxy.txt
{
  echo "# bench/proxy.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $reps run(s) each, medians"
  printf '%-10s %10s %10s %12s %12s %10s\n' middle p50_us p99_us added_p50 added_p99 GB/s
  d50=$(echo "${p50[$server]}" | median); d99=$(echo "${p99[$server]}" | median)
  for p in "${order[@]}"; do
    m50=$(echo "${p50[$p]}" | median); m99=$(echo "${p99[$p]}" | median); g=$(echo "${gbs[$p]}" | median)
    printf '%-10s %10.1f %10.1f %12.1f %12.1f %10.2f\n' "${names[$p]}" "$m50" "$m99" \
      "$(echo "$m50 - $d50" | bc -l)" "$(echo "$m99 - $d99" | bc -l)" "$g"
  done
} | tee "$out"
