"""Interleaved A/B timing of two or more builds of the same command.

    python3 bench/ab.py RUNS BINARY_A BINARY_B [...] -- ARGS...

Runs each binary with ARGS in turn, RUNS times (order alternating, three warm-up rounds not
counted), and prints each one's median and mean wall time and the median of its paired
difference to the first binary. On a shared machine whose speed drifts by more than the
effect being measured, consecutive blocks (hyperfine's way) mislead; paired runs do not.
Output of the binaries goes to /dev/null. BENCHMARKS.md's "what moved" rows use it.
"""

import os
import statistics
import sys
import time

split = sys.argv.index("--")
runs, binaries, args = int(sys.argv[1]), sys.argv[2:split], sys.argv[split + 1 :]
null = os.open("/dev/null", os.O_WRONLY)
times = {b: [] for b in binaries}
for r in range(runs + 3):
    for b in binaries if r % 2 == 0 else binaries[::-1]:
        start = time.perf_counter()
        pid = os.posix_spawn(b, [b, *args], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        os.waitpid(pid, 0)
        if r >= 3:
            times[b].append((time.perf_counter() - start) * 1000)
first = times[binaries[0]]
for b in binaries:
    t = times[b]
    paired = statistics.median(x - y for x, y in zip(t, first))
    print(f"{b:40} median {statistics.median(t):6.2f} ms  mean {statistics.mean(t):6.2f} ms  paired vs first {paired:+.2f} ms")
