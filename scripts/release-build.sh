#!/usr/bin/env bash
# Builds the optimised faultline binary and prints its path. `make release`, the demos, the
# benchmarks and scripts/hot-functions.sh all build it here, so they share one build (the same
# flags) instead of rebuilding each other's. Build output goes to stderr: its last line on
# success, all of it on failure.
#
# The Swift runtime and Foundation are linked statically (one file, nothing to install), and
# every function gets its own section, so the release link can lay out the functions a run
# executes next to each other (Package.swift, scripts/hot-functions.sh): 1.3 MiB less resident.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build "${flags[@]}" --product faultline >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
tail -n 1 "$log" >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/faultline"
