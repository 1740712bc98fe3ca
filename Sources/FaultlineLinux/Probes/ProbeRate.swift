import FaultlineCore
import Foundation

/// Measures how many probes per second the probe code itself sustains: `concurrency` threads,
/// each with its own probe (and connection), sampling back to back for `seconds`.
public enum ProbeRate {
    public struct Result: Sendable {
        public var samples: Int
        public var failures: Int
        public var seconds: Double
        public var perSecond: Double { Double(samples) / seconds }
    }

    public static func measure(_ spec: ProbeSpec, concurrency: Int, seconds: Double) throws(ProbeError) -> Result {
        var probes: [any Probe] = []
        for _ in 0..<concurrency { probes.append(try Probes.make(spec)) }
        let counts = Locked([(Int, Int)](repeating: (0, 0), count: concurrency))
        let boxes = probes.map { UncheckedBox($0) }
        let start = MonotonicClock.now()
        let end = start + Int64(seconds * 1e9)
        Parallel.run(concurrency) { i in
            let probe = boxes[i].value
            var n = 0
            var failed = 0
            while MonotonicClock.now() < end {
                if !probe.sample().ok { failed += 1 }
                n += 1
            }
            counts.mutate { $0[i] = (n, failed) }
        }
        let elapsed = Double(MonotonicClock.now() - start) / 1e9
        let totals = counts.value.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        return Result(samples: totals.0, failures: totals.1, seconds: elapsed)
    }
}

/// Hands a non-Sendable value to exactly one other thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
