#!/usr/bin/env bash
# The queue engine (an NFQUEUE and the agent's delay line) under load, in two namespaces of its
# own joined by a veth (198.18.229.1 → .2): UDP at 1k, 10k and 50k packets/s through a 10 ms
# delay. For each rate: the delay's error (added round trip − 10 ms, p50 and p99, against the
# same rate's round trip without the engine), the delay line's lateness, its thread's CPU
# (and per 10k packets/s), and the whole machine's CPU over the same rate without the engine.
# Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "queue-engine: needs root (namespaces)"; exit 0; }
bench="$(scripts/release-build.sh faultline-bench)"
a=flqb$$a b=flqb$$b
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a"; ip netns add "$b"
ip link add "vq$$a" netns "$a" type veth peer name "vq$$b" netns "$b"
ip -n "$a" addr add 198.18.229.1/24 dev "vq$$a"; ip -n "$b" addr add 198.18.229.2/24 dev "vq$$b"
for n in "$a" "$b"; do ip -n "$n" link set lo up; done
ip -n "$a" link set "vq$$a" up; ip -n "$b" link set "vq$$b" up
secs=3; rates="1000 10000 50000"
[ -z "${BENCH_SMOKE:-}" ] || { secs=1; rates="1000 10000"; }
mkdir -p bench/results
{
  echo "# bench/queue-engine.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, 10 ms delay, ${secs} s per rate"
  for r in $rates; do
    "$bench" queue-engine --sender "/run/netns/$a" --echo "/run/netns/$b" --peer 198.18.229.2 --rate "$r" --seconds "$secs" --delay 10
  done
} | tee bench/results/queue-engine.txt
