#!/usr/bin/env bash
# Regenerates Sources/faultline/hot-functions.txt: the symbols a typical faultline process
# executes, for the release link's --symbol-ordering-file (see Package.swift).
#
# Why: faultline links Swift's standard library and Foundation statically (80 MB). The few
# thousand functions a run needs are scattered over 17 MB of code, and the kernel maps file
# pages around each fault (64 KiB and more), so a trivial run kept ~9 MiB of code resident.
# Laid out together they take ~5 MiB. The list only moves code; a stale list costs memory,
# never correctness (unknown names are ignored).
#
# How: each command below runs once under valgrind's callgrind, which records every function
# executed; the names found in the binary's symbol table are written in first-seen order.
# Needs root for apt (valgrind, nginx) on first use. Run after large changes, then commit.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null && command -v nginx >/dev/null \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind nginx-light >/dev/null
[ -f Sources/faultline/hot-functions.txt ] || : >Sources/faultline/hot-functions.txt
bin="$(scripts/release-build.sh)"

scratch=$(mktemp -d /tmp/faultline-hot.XXXXXX)
source bench/nginx.sh
trap 'stop_nginx; rm -rf "$scratch"' EXIT
start_nginx "$scratch"

# valgrind 3.19 cannot read the DWARF 5 clang emits: profile a copy without debug info.
objcopy --strip-debug "$bin" "$scratch/faultline"
cp experiments/trivial.yaml "$scratch/"
profile() {
  local n=$1; shift
  (cd "$scratch" && valgrind --tool=callgrind --demangle=no --callgrind-out-file="$scratch/cg.$n" \
    ./faultline "$@" >/dev/null 2>&1) || true
}
profile 1 run trivial.yaml --quiet --state-dir "$scratch/state" --out "$scratch/reports"
profile 2 --version
profile 3 validate "$PWD"/experiments/*.yaml
profile 4 plan "$PWD/experiments/redis-sentinel-failover.yaml"
profile 5 list-faults

python3 - "$scratch" Sources/faultline/hot-functions.txt <<'PY'
import glob, re, subprocess, sys
scratch, out = sys.argv[1], sys.argv[2]
defined = set()
for line in subprocess.run(["nm", "--defined-only", f"{scratch}/faultline"], capture_output=True, text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        defined.add(parts[2])
order, seen = [], set()
for path in sorted(glob.glob(f"{scratch}/cg.*")):
    for line in open(path):
        m = re.match(r"^c?fn=\(\d+\) (.+)$", line.rstrip("\n"))
        if not m:
            continue
        name = m.group(1).split("'")[0]  # callgrind marks recursion depth as name'2
        if name in defined and name not in seen:
            seen.add(name)
            order.append(name)
open(out, "w").write("".join(n + "\n" for n in order))
print(f"{out}: {len(order)} functions")
PY
# SwiftPM does not know the link depends on this list: make the next build link again.
rm -f "$bin"
