#!/usr/bin/env bash
# make fuzz [FUZZ_TIME=seconds]: libFuzzer on the experiment, lab and inventory readers and the
# proxy API's request parser (Tests/Fuzz), seeded with the shipped experiments and labs, the
# malformed corpus, its inventories and a few API requests. Every input is loaded as an
# experiment (YAML and JSON), a lab file, an inventory (INI, YAML, JSON) and an API request; a
# crash, an input taking over 1 s, or memory past 512 MB fails the run, and the input that did
# it is kept in .build-fuzz/crashes/.
# Prints libFuzzer's final statistics (executions, time) for RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
log=$(mktemp)
work=$(mktemp -d /tmp/faultline-fuzz.XXXXXX)
trap 'rm -rf "$work" "$log"' EXIT
if ! swift build -c release --product faultline-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
bin="$PWD/.build-fuzz/release/faultline-fuzz"
mkdir -p "$work/corpus" .build-fuzz/crashes
fixtures=Tests/FaultlineCoreTests/Fixtures
cp experiments/*.yaml experiments/labs/*.yaml "$fixtures"/malformed/*.yaml "$fixtures"/malformed/*.json \
  "$fixtures"/malformed/labs/*.yaml "$fixtures"/valid/* "$work/corpus/"
for f in "$fixtures"/malformed/inventories/* "$fixtures"/malformed/inventory.ini; do cp "$f" "$work/corpus/inventory-$(basename "$f")"; done
# Requests to the proxy's API, as Toxiproxy clients send them.
api() { printf '%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s' "$1" "$2" "${#3}" "$3" >"$work/corpus/api-$4"; }
api POST /proxies '{"name":"db","listen":"127.0.0.1:0","upstream":"127.0.0.1:5432","enabled":true}' create
api POST /proxies/db/toxics '{"type":"latency","stream":"upstream","toxicity":0.5,"attributes":{"latency":100,"jitter":10}}' toxic
api POST /populate '[{"name":"a","upstream":"127.0.0.1:1"},{"name":"b","listen":"0.0.0.0:9","upstream":"x:2"}]' populate
api PATCH /proxies/db/toxics/slicer_downstream '{"attributes":{"average_size":10,"size_variation":2,"delay":5}}' update
echo "fuzz: $(ls "$work/corpus" | wc -l) seed files, ${seconds}s"
# Swift's own crash handler would take the signal from libFuzzer, which then keeps no input.
status=0
(cd "$work" && SWIFT_BACKTRACE=enable=no "$bin" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=512 -print_final_stats=1 \
  -artifact_prefix="$OLDPWD/.build-fuzz/crashes/" corpus) >"$log" 2>&1 || status=$?
grep -E "^(stat::|Done |==[0-9]+== ERROR|SUMMARY)|INITED|DONE " "$log" || true
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (libFuzzer exit $status); the input is in .build-fuzz/crashes/" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
echo "fuzz: no crash, hang or memory blow-up"
