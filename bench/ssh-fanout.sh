#!/usr/bin/env bash
# SIGKILL on N hosts reached over SSH (warm connections), side by side in one run:
#   faultline    one kill fault over N ssh hosts (host: [s1, …]): from its scheduled instant to
#                the kill confirmed on every host (the journal's scheduled_at → confirmed_at)
#   ansible      `ansible all -m shell -a 'kill -9 $(cat /run/vK.pid)' -f N`, ControlPersist warm
#   parallel-ssh `parallel-ssh -p N … 'kill -9 $(cat /run/vK.pid)'`, over warm ControlMaster sockets
# The hosts are lab hosts (198.18.10.0/24), each running Debian's sshd and one `sleep` per kill
# to come (each host's own PID namespace and /run).
# Also: faultline's connection set-up for N hosts, and its memory per host.
# Goal (issue 14): ≤ 25 ms median for faultline, ≥ 50× faster than ansible's ad-hoc run.
# Needs root, openssh-server, ansible and pssh (Debian packages; installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${BENCH_HOSTS:-32}; rounds=${BENCH_ROUNDS:-10}; peer_rounds=${BENCH_PEER_ROUNDS:-5}
[ -z "${BENCH_SMOKE:-}" ] || { n=4; rounds=2; peer_rounds=1; }
if ! command -v ansible >/dev/null || ! command -v parallel-ssh >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible pssh >/dev/null
fi
fl="$(scripts/release-build.sh)"
scratch=$(mktemp -d /var/tmp/faultline-ssh-bench.XXXXXX)
lab=sshbench
cleanup() {
  # Ours and Ansible's ControlPersist masters (they would linger for a minute after their hosts).
  for s in "$scratch"/cp/* "$scratch"/ansible-cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x 2>/dev/null || true; done
  "$fl" lab down $lab --lab-dir "$scratch/labs" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
# BENCH_FAULTLINE_ONLY=1: the faultline figures alone (a quick look while tuning).
mkdir -p bench/results "$scratch/cp" "$scratch/ansible-cp"
ssh-keygen -q -t ed25519 -N '' -f "$scratch/id"
pub=$(cat "$scratch/id.pub")
# Each host has its own /run and its own root home, as a fleet host has: ssh runs every session
# through root's login shell, and this machine's /root/.bashrc (pyenv) costs ~150 ms of CPU per
# session, which 32 lab hosts on two cores would pay one after another.
# The victims: one `sleep` per kill on every host, the k-th with its pid in /run/vk.pid (the
# host's own /run), started at once by a shell that then becomes `sleep infinity`. Each round
# of each tool kills the next one through its pid file, and nothing restarts it: on a fleet a
# restart would run on the host's own CPU, here 32 at once would share the two cores with the
# kill's confirmation. Their parent ignores SIGCHLD, so a kill wakes no one else.
victims=$(( 2 * rounds + 2 + 2 * peer_rounds + 2 ))
victim="for i in \$(seq 1 $victims); do sleep \$((100000 + i)) & echo \$! > /run/v\$i.pid; done; exec sleep infinity"
{
  echo "lab: $lab"; echo "subnet: 198.18.10.0/24"; echo "hosts:"
  for i in $(seq 1 "$n"); do cat <<HOST
  s$i:
    address: 198.18.10.$((10 + i))
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
      - name: victims
        argv: [/bin/sh, -c, "$victim"]
HOST
  done
} > "$scratch/lab.yaml"
"$fl" lab up "$scratch/lab.yaml" --lab-dir "$scratch/labs" >/dev/null
: > "$scratch/known_hosts"; : > "$scratch/hosts.txt"
for i in $(seq 1 "$n"); do
  echo "198.18.10.$((10 + i)) $(cut -d' ' -f1,2 "$scratch/labs/$lab/s$i/host_key.pub")" >> "$scratch/known_hosts"
  echo "198.18.10.$((10 + i))" >> "$scratch/hosts.txt"
done
hostlist=$(seq -s, 1 "$n" | sed 's/\([0-9]*\)/s\1/g; s/,/, /g')

# Victim k is the k-th kill's: faultline's first run takes 1 to R, its second R+1 to 2R, the
# one-host run 2R+1, the peers the ones after.
# faultline: one experiment, `rounds` kills a second apart, each on every host at once.
experiment() {
  local base=$1
  echo "version: 1"; echo "title: SIGKILL on $n ssh hosts"; echo "duration: $((rounds + 1))s"; echo "hosts:"
  for i in $(seq 1 "$n"); do
    echo "  s$i: {ssh: {address: \"root@198.18.10.$((10 + i))\", identity: id, known_hosts: known_hosts, dir: /run/fl}}"
  done
  echo "faults:"
  for r in $(seq 1 "$rounds"); do
    echo "  - {name: k$r, at: ${r}s, duration: 500ms, kill: {host: [$hostlist], process: {pidfile: /run/v$((base + r)).pid}, signal: KILL}}"
  done
}
experiment 0 > "$scratch/kill-first.yaml"
experiment "$rounds" > "$scratch/kill.yaml"
# The first run copies the agent to every host; the second finds it there (hash checked at
# start). The kill figures and the memory are the second run's.
"$fl" run "$scratch/kill-first.yaml" --state-dir "$scratch/state" --out "$scratch/reports" --quiet > "$scratch/run.out" 2>&1 ||
  { grep -v "reverted by its TTL" "$scratch/run.out" | tail -20; exit 1; }
first_agents=$(python3 -c "
import json, sys
j = json.load(open('$scratch/reports/latest/journal.json'))
c = max(e['at'] for e in j['events'] if e['what'].startswith('connected to'))
print(round((max(e['at'] for e in j['events'] if e['what'].startswith('agent on ')) - c) / 1e6))")
/usr/bin/time -f "%M" -o "$scratch/rss.n" "$fl" run "$scratch/kill.yaml" --state-dir "$scratch/state" --out "$scratch/reports" --quiet > "$scratch/run.out" 2>&1 ||
  { grep -v "reverted by its TTL" "$scratch/run.out" | tail -20; exit 1; }
python3 - "$scratch/reports/latest/journal.json" > "$scratch/fl.txt" <<'PY'
import json, sys, statistics
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "passed", j["reasons"]
d = sorted((f["confirmed_at"] - f["scheduled_at"]) / 1e6 for f in j["faults"])
ev = [e for e in j["events"] if e.get("what", "").startswith("connected to")]
setup = max(e["at"] for e in ev) / 1e6 if ev else float("nan")
ready = [e for e in j["events"] if e.get("what", "").startswith("agent on ")]
agents = max(e["at"] for e in ready) / 1e6 - setup if ready else float("nan")
u = max(f.get("clock_uncertainty", 0) for f in j["faults"]) / 1e6
print(f"{statistics.median(d):.1f} {d[0]:.1f} {d[-1]:.1f} {setup:.0f} {len(d)} {agents:.0f} {u:.2f}")
PY
cp "$scratch/reports/latest/journal.json" "$scratch/journal-n.json"
# Memory: the same run on one host, against N.
{
  echo "version: 1"; echo "title: SIGKILL on 1 ssh host"; echo "duration: 2s"; echo "hosts:"
  echo "  s1: {ssh: {address: \"root@198.18.10.11\", identity: id, known_hosts: known_hosts, dir: /run/fl}}"
  echo "faults: [{name: k1, at: 1s, duration: 500ms, kill: {host: [s1], process: {pidfile: /run/v$((2 * rounds + 1)).pid}, signal: KILL}}]"
} > "$scratch/kill1.yaml"
/usr/bin/time -f "%M" -o "$scratch/rss.1" "$fl" run "$scratch/kill1.yaml" --state-dir "$scratch/state" --out "$scratch/reports" --quiet >/dev/null

# The floor under any agent start: one bare session (`ssh host true`) on every host at once, over
# warm master connections; the median of three.
ssh_opts="-i $scratch/id -o UserKnownHostsFile=$scratch/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o ControlMaster=auto -o ControlPersist=120 -o ControlPath=$scratch/cp/%h"
bare() { for i in $(seq 1 "$n"); do ssh $ssh_opts "root@198.18.10.$((10 + i))" true & done; wait; }
bare >/dev/null 2>&1
: > "$scratch/bare.txt"
for _ in 1 2 3; do s=$(date +%s%N); bare; echo $(( ($(date +%s%N) - s) / 1000000 )) >> "$scratch/bare.txt"; done
bare_med=$(sort -n "$scratch/bare.txt" | sed -n 2p)
agent_bin="$(dirname "$fl")/faultline-agent"
# What went to the hosts: the compressed copy in the state directory (zstd, or gzip), else the file.
agent_z=$(ls "$scratch"/state/faultline-agent-*.zst "$scratch"/state/faultline-agent-*.gz 2>/dev/null | head -1 || true)
case "$agent_z" in *.zst) codec="zstd-compressed " ;; *.gz) codec="gzip-compressed " ;; *) codec= ;; esac
agent_sent="faultline-agent: $(awk -v b="$(stat -c %s "$agent_bin")" 'BEGIN { printf "%.1f", b / 1048576 }') MiB, $(awk -v b="$(stat -c %s "${agent_z:-$agent_bin}")" 'BEGIN { printf "%.1f", b / 1048576 }') MiB ${codec}on the wire"
if [ -n "${BENCH_FAULTLINE_ONLY:-}" ]; then
  cat "$scratch/fl.txt"
  echo "agents: first run $first_agents ms ($agent_sent), warm $(cut -d' ' -f6 "$scratch/fl.txt") ms; one bare session on every host $bare_med ms"
  cp "$scratch/journal-n.json" /tmp/fl-ssh-journal.json
  python3 - "$scratch/journal-n.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for f in j["faults"]:
    print(f["name"], f["scheduled_at"] / 1e6, f.get("injected_at", 0) / 1e6, f.get("confirmed_at", 0) / 1e6)
PY
  exit 0
fi
# ansible: its own ControlPersist connections, warmed by a first run.
{
  echo "[all]"
  for i in $(seq 1 "$n"); do echo "s$i ansible_host=198.18.10.$((10 + i))"; done
  echo "[all:vars]"
  echo "ansible_user=root"
  echo "ansible_ssh_private_key_file=$scratch/id"
  echo "ansible_ssh_common_args='-o UserKnownHostsFile=$scratch/known_hosts -o StrictHostKeyChecking=yes'"
  echo "ansible_python_interpreter=/usr/bin/python3"
} > "$scratch/inventory.ini"
export ANSIBLE_HOME="$scratch/ansible-home" ANSIBLE_SSH_CONTROL_PATH_DIR="$scratch/ansible-cp" ANSIBLE_LOCAL_TEMP="$scratch/ansible-tmp" ANSIBLE_REMOTE_TEMP=/run/ansible-tmp
export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_GATHERING=explicit ANSIBLE_NOCOLOR=1 ANSIBLE_LOAD_CALLBACK_PLUGINS=0 ANSIBLE_DEPRECATION_WARNINGS=0
timed() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
next=$((2 * rounds + 1))
# Each run kills the next victim through its pid file, as faultline does.
ans() { next=$((next + 1)); ansible all -i "$scratch/inventory.ini" -m shell -a "kill -9 \$(cat /run/v$next.pid)" -f "$n"; }
pss() { next=$((next + 1)); parallel-ssh -h "$scratch/hosts.txt" -l root -p "$n" -t 30 -x "$ssh_opts" "kill -9 \$(cat /run/v$next.pid)"; }
ans >/dev/null 2>&1 || true
pss >/dev/null 2>&1 || true
: > "$scratch/ans.txt"; : > "$scratch/pss.txt"
for _ in $(seq 1 "$peer_rounds"); do
  timed ans >> "$scratch/ans.txt"
  timed pss >> "$scratch/pss.txt"
done
# Every victim the peers were to kill is gone on every host (their exit status is not read).
peer_first=$((next - 2 * peer_rounds - 1))
gone=$(seq -s'|' $((100000 + peer_first)) $((100000 + next)))
parallel-ssh -h "$scratch/hosts.txt" -l root -p "$n" -t 30 -x "$ssh_opts" "! pgrep -f -x 'sleep ($gone)'" >/dev/null ||
  { echo "ssh-fanout: a peer left a victim alive on some host" >&2; exit 1; }
med() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
read -r fl_med fl_min fl_max setup kills agents clock_u < "$scratch/fl.txt"
ans_med=$(med "$scratch/ans.txt"); pss_med=$(med "$scratch/pss.txt")
rss_n=$(cat "$scratch/rss.n"); rss_1=$(cat "$scratch/rss.1")
per_host=$(( (rss_n - rss_1) / (n > 1 ? n - 1 : 1) ))
{
  echo "SIGKILL confirmed on $n ssh hosts (warm connections), median of $kills (faultline) and $peer_rounds (peers):"
  printf "  %-14s %8s ms  (min %s, max %s; the agents' clocks mapped within ± %s ms)\n" faultline "$fl_med" "$fl_min" "$fl_max" "$clock_u"
  printf "  %-14s %8s ms  (the whole ad-hoc run)\n" ansible "$ans_med"
  printf "  %-14s %8s ms\n" parallel-ssh "$pss_med"
  awk -v a="$ans_med" -v f="$fl_med" -v p="$pss_med" 'BEGIN { printf "  faultline is %.0fx faster than ansible, %.0fx faster than parallel-ssh\n", a / f, p / f }'
  echo "  connection set-up for $n hosts (run start to the last master up): $setup ms"
  echo "  agents started on $n hosts after that: $first_agents ms on a first run ($agent_sent copied to each), $agents ms once it is there (its recorded identity checked at each start); one bare ssh session on every host at once: $bare_med ms"
  echo "  runner max RSS: $((rss_1 / 1024)) MiB with 1 host, $((rss_n / 1024)) MiB with $n: $per_host KiB per host (ssh clients not included)"
} | tee bench/results/ssh-fanout.txt
