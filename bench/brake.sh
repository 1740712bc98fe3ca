#!/usr/bin/env bash
# The brake's reaction: from the breaching sample (a stop condition), the halt command (its
# file's monotonic instant) or the signal (SIGINT) to every fault reverted and its revert
# confirmed — 8 pauses held on 8 hosts, reached two ways:
#   lab   lab hosts (agents entered into each host's namespaces)
#   ssh   the same hosts reached over ssh (their own sshd, warm connections)
# Each of BENCH_ROUNDS runs (default 10) per case is stopped once, ~1 s into the hold; the
# figure is the journal's stop.revertedAt − stop.at. Peer, in the same run: a hand-made brake,
# one ssh session per host at once over the same warm control sockets (`pkill -CONT`), timed
# from its start to the last session's exit.
# Goal (issue 20): ≤ 100 ms p99 for 8 faults on 8 hosts. Needs root and openssh-server.
set -euo pipefail
cd "$(dirname "$0")/.."
n=8; rounds=${BENCH_ROUNDS:-10}
[ -z "${BENCH_SMOKE:-}" ] || rounds=2
fl="$(scripts/release-build.sh)"
scratch=$(mktemp -d /var/tmp/faultline-bench-brake.XXXXXX)
state=$(mktemp -d /run/faultline-bench-brake.XXXXXX)
lab=brake8
cleanup() {
  for s in "$scratch"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x 2>/dev/null || true; done
  "$fl" lab down $lab --lab-dir "$scratch/labs" >/dev/null 2>&1 || true
  rm -rf "$scratch" "$state"
}
trap cleanup EXIT
mkdir -p bench/results "$scratch/cp"
ssh-keygen -q -t ed25519 -N '' -f "$scratch/id"
pub=$(cat "$scratch/id.pub")
{
  echo "lab: $lab"; echo "subnet: 198.18.210.0/24"; echo "hosts:"
  for i in $(seq 1 "$n"); do cat <<HOST
  h$i:
    address: 198.18.210.$((10 + i))
    private: [/run, /root]
    files:
      authorized_keys: "$pub\n"
      sshd_config: |
        ListenAddress {address}
        HostKey {dir}/host_key
        AuthorizedKeysFile {dir}/authorized_keys
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PidFile none
    services:
      - name: sshd
        argv: [/bin/sh, -c, "mkdir -p /run/sshd && rm -f {dir}/host_key* && ssh-keygen -q -t ed25519 -N '' -f {dir}/host_key && exec /usr/sbin/sshd -D -e -f {dir}/sshd_config"]
        ready: {tcp: "{address}:22"}
      - name: victim
        argv: [sleep, "900"]
HOST
  done
} > "$scratch/lab.yaml"
"$fl" lab up "$scratch/lab.yaml" --lab-dir "$scratch/labs" >/dev/null
: > "$scratch/known_hosts"
for i in $(seq 1 "$n"); do
  echo "198.18.210.$((10 + i)) $(cut -d' ' -f1,2 "$scratch/labs/$lab/h$i/host_key.pub")" >> "$scratch/known_hosts"
done

# An experiment: 8 pauses from 200 ms for 20 s, one per host; a guard probe that fails once
# $scratch/trip exists; `stop_when` only for the stop-condition case.
experiment() { # where(lab|ssh) stop(yes|no)
  echo "version: 1"; echo "title: brake, 8 pauses on 8 $1 hosts"; echo "duration: 25s"
  if [ "$1" = lab ]; then echo "lab: lab.yaml"; else
    echo "hosts:"
    for i in $(seq 1 "$n"); do
      echo "  h$i: {ssh: {address: \"root@198.18.210.$((10 + i))\", identity: id, known_hosts: known_hosts, dir: /run/fl}}"
    done
  fi
  echo "probes:"; echo "  - {name: guard, interval: 10ms, command: {argv: [test, '!', -e, $scratch/trip]}}"
  echo "faults:"
  for i in $(seq 1 "$n"); do echo "  - {name: p$i, at: 200ms, duration: 20s, pause: {host: h$i, process: {cmdline: '^sleep 900\$'}}}"; done
  [ "$2" = no ] || { echo "stop_when:"; echo "  failures: {probe: guard}"; }
}
for where in lab ssh; do
  experiment $where no > "$scratch/exp-$where.yaml"
  experiment $where yes > "$scratch/exp-$where-stop.yaml"
done
# The first ssh run installs the agent on every host; not measured.
"$fl" run "$scratch/exp-ssh.yaml" --quiet --state-dir "$state" --out "$scratch/warmup" --halt-file "$scratch/halt" >/dev/null 2>&1 &
sleep 8; "$fl" halt --file "$scratch/halt" --no-wait >/dev/null; wait || true; rm -f "$scratch/halt"

stopped_once() { # case file how
  local name=$1 file=$2 how=$3
  rm -f "$scratch/trip" "$scratch/halt"
  "$fl" run "$scratch/$file" --quiet --state-dir "$state" --out "$scratch/r-$name" --lab-dir "$scratch/labs" \
    --halt-file "$scratch/halt" > "$scratch/run.out" 2>&1 &
  local pid=$!
  # The faults hold from 200 ms after the phase starts; stop ~1 s into the hold.
  for _ in $(seq 100); do grep -q "fault phase started" "$scratch/run.out" 2>/dev/null && break; sleep 0.05; done
  sleep 1.2
  case $how in
    stop) touch "$scratch/trip" ;;
    halt) "$fl" halt --file "$scratch/halt" --no-wait >/dev/null ;;
    sigint) kill -INT $pid ;;
  esac
  wait $pid || true
  [ -f "$scratch/r-$name/latest/journal.json" ] || { echo "$name: no journal"; tail -20 "$scratch/run.out"; exit 1; }
  python3 - "$scratch/r-$name/latest/journal.json" >> "$scratch/$name.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j.get("stop") or {}
ok = j["verdict"] == "aborted" and s.get("faults") == 8 and s.get("reverted_at") is not None and not j["residue"]
print((s["reverted_at"] - s["at"]) / 1e6 if ok else f"bad {j['verdict']} {j['reasons']} {j['residue']}")
PY
}

for where in lab ssh; do
  for how in stop halt sigint; do
    file=exp-$where.yaml; [ $how = stop ] && file=exp-$where-stop.yaml
    for _ in $(seq "$rounds"); do stopped_once "$where-$how" "$file" "$how"; done
  done
done

# Peer: one ssh session per host at once, over warm control sockets, each continuing its host's
# victim after a SIGSTOP sent the same way (not timed).
for i in $(seq 1 "$n"); do
  ssh -i "$scratch/id" -o UserKnownHostsFile="$scratch/known_hosts" -o ControlMaster=yes -o ControlPersist=300 \
    -o ControlPath="$scratch/cp/h$i" -fN root@198.18.210.$((10 + i))
done
peer() { # signal
  for i in $(seq 1 "$n"); do
    ssh -o ControlPath="$scratch/cp/h$i" root@198.18.210.$((10 + i)) "pkill -$1 -f '^sleep 900\$'" &
  done
  wait
}
for _ in $(seq "$rounds"); do
  peer STOP
  python3 -c 'import time; print(time.monotonic_ns())' > "$scratch/t0"
  peer CONT
  python3 -c "import time; print((time.monotonic_ns() - int(open('$scratch/t0').read())) / 1e6)" >> "$scratch/peer.txt"
done
[ -z "${BENCH_DEBUG:-}" ] || { cat "$scratch/peer.txt"; ls "$scratch/cp"; }

python3 - "$scratch" "$rounds" <<'PY'
import json, statistics, sys, datetime
scratch, rounds = sys.argv[1], int(sys.argv[2])
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
out = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "rounds": rounds}
names = [f"{w}-{h}" for w in ("lab", "ssh") for h in ("stop", "halt", "sigint")] + ["peer"]
for name in names:
    bad = [l for l in open(f"{scratch}/{name}.txt").read().splitlines() if l.startswith("bad")]
    xs = [float(l) for l in open(f"{scratch}/{name}.txt").read().splitlines() if not l.startswith("bad")]
    if not xs:
        print(f"{name}: no figures: {open(f'{scratch}/{name}.txt').read()[:300]!r}")
        continue
    if name == "peer":
        label = "peer: 8 ssh sessions at once, pkill -CONT (warm)"
    else:
        where, how = name.split("-")
        label = f"{how:<6} 8 pauses on 8 {where} hosts"
    print(f"{label:<50} n={len(xs):<3} ms to every fault reverted: median {statistics.median(xs):.1f}  p99 {pct(xs, 99):.1f}  max {max(xs):.1f}"
          + (f"   {len(bad)} bad: {bad[0]}" if bad else ""))
    out[name] = {"n": len(xs), "ms_median_p99_max": [statistics.median(xs), pct(xs, 99), max(xs)], "bad": len(bad)}
json.dump(out, open("bench/results/brake.json", "w"), indent=2)
PY
