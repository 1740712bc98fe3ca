import FaultlineCore
import FaultlineLinux
import Foundation

/// Measures how many probes per second the probe code itself sustains: `concurrency` threads,
/// each with its own probe (and connection), sampling back to back for `seconds`.
enum ProbeRate {
    struct Result: Sendable {
        var samples: Int
        var failures: Int
        var seconds: Double
        var perSecond: Double { Double(samples) / seconds }
    }

    static func measure(_ spec: ProbeSpec, concurrency: Int, seconds: Double) throws(ProbeError) -> Result {
        var probes: [any Probe] = []
        for _ in 0..<concurrency { probes.append(try Probes.make(spec)) }
        let counts = Counts(concurrency)
        let boxes = probes.map { UncheckedBox($0) }
        let start = MonotonicClock.now()
        let end = start + Int64(seconds * 1e9)
        let group = DispatchGroup()
        for i in 0..<concurrency {
            group.enter()
            Thread {
                let probe = boxes[i].value
                var n = 0
                var failed = 0
                while MonotonicClock.now() < end {
                    if !probe.sample().ok { failed += 1 }
                    n += 1
                }
                counts.set(i, (n, failed))
                group.leave()
            }.start()
        }
        group.wait()
        let elapsed = Double(MonotonicClock.now() - start) / 1e9
        let totals = counts.all.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        return Result(samples: totals.0, failures: totals.1, seconds: elapsed)
    }
}

/// Hands a non-Sendable value to exactly one other thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Each thread's (samples, failures), behind a lock.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(Int, Int)]
    init(_ n: Int) { values = Array(repeating: (0, 0), count: n) }
    func set(_ i: Int, _ v: (Int, Int)) {
        lock.lock()
        values[i] = v
        lock.unlock()
    }
    var all: [(Int, Int)] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
