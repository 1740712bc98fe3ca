#!/usr/bin/env bash
# Builds the optimised faultline binary and prints its path. `make release`, the demos, the
# benchmarks and scripts/hot-functions.sh all build it here, so they share one build (the same
# flags) instead of rebuilding each other's. Build output goes to stderr: its last line on
# success, all of it on failure.
#
# The Swift runtime and Foundation are linked statically (one file, nothing to install), and
# every function gets its own section, so the release link can lay out the functions a run
# executes next to each other (Package.swift, scripts/hot-functions.sh): 1.3 MiB less resident.
#
# The C++ runtime the Swift runtime needs is linked statically too. The toolchain's link file
# asks for `-lstdc++`, which finds the shared library; a directory holding only the archive,
# searched first, makes the same `-lstdc++` find `libstdc++.a`. The shared libstdc++ costs every
# start ~1 ms and ~1 MiB resident: its thousands of exported symbols are looked up and its
# tables relocated, where the archive adds the few members used, resolved at link time
# (BENCHMARKS.md). GCC's runtime library exception allows this. Where the toolchain's clang
# finds no archive, the build falls back to the shared library.
# An argument names another product of the package (bench/*.sh build faultline-bench so);
# building faultline also builds faultline-agent, the program it copies to SSH hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
product="${1:-faultline}"
flags=(-c release --static-swift-stdlib -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
cxx_archive=$("$(dirname "$(readlink -f "$(command -v swift)")")/clang" -print-file-name=libstdc++.a 2>/dev/null || true)
if [ -f "$cxx_archive" ]; then
  mkdir -p .build/static-libstdc++
  ln -sfn "$cxx_archive" .build/static-libstdc++/libstdc++.a
  flags+=(-Xswiftc -L"$PWD/.build/static-libstdc++")
else
  echo "release-build: no libstdc++.a found; linking the shared C++ runtime" >&2
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# faultline copies faultline-agent (built beside it) to SSH hosts: the one comes with the other.
products=("$product")
[ "$product" != faultline ] || products+=(faultline-agent)
for p in "${products[@]}"; do
  if ! swift build "${flags[@]}" --product "$p" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  tail -n 1 "$log" >&2
done
echo "$(swift build "${flags[@]}" --show-bin-path)/$product"
