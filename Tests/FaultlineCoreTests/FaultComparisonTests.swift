import Foundation
import Testing

@testable import FaultlineCore

/// `added_latency` and `added_value`: what a fault adds, judged on the whole 95 % interval of the difference.
@Suite("what a fault adds: latency and values")
struct FaultComparisonTests {
    static let ms: Nanos = 1_000_000

    /// A series sampled every 10 ms for 10 s; inside [3 s, 6 s) latency is `slow`, values `high`.
    func run(slow: Nanos, high: Double, jitter: Nanos = 0) -> RunEvidence {
        var s = ProbeSeries(probe: "p", kind: "command", interval: 10 * Self.ms)
        for i in 0..<1_000 {
            let t = Nanos(i) * 10 * Self.ms
            let inside = t >= 3_000 * Self.ms && t < 6_000 * Self.ms
            let l = (inside ? slow : 1 * Self.ms) + jitter * Nanos(i * 7_919 % 1_000) / 1_000
            s.append(scheduled: t, started: t, latency: l, ok: true, reason: nil, value: inside ? high : 0.01)
        }
        var f = FaultRecord(name: "slow", kind: "network", host: "n2", target: "-", scheduledAt: 3_000 * Self.ms)
        f.injectedAt = 2_990 * Self.ms
        f.confirmedAt = 2_995 * Self.ms
        f.revertedAt = 6_000 * Self.ms
        return RunEvidence(
            phase: 0..<(10_000 * Self.ms), series: [s], faults: [f], faultWindows: [(2_990 * Self.ms)..<(6_000 * Self.ms)])
    }

    @Test("50 ms added: at least 40 ms passes, at most 10 ms fails; the interval brackets the difference")
    func latency() {
        let r = run(slow: 51 * Self.ms, high: 0.06, jitter: 2 * Self.ms)
        let atLeast = AddedLatencyExpectation(probe: "p", fault: "slow", min: 40 * Self.ms).check(r)[0]
        // Both sides spread evenly over 2 ms: the medians differ by the 50 ms added.
        #expect(atLeast.passed && atLeast.measured == "+50ms (95 % interval +49.81ms to +50.19ms)", "\(atLeast.measured)")
        #expect(atLeast.measured.contains("95 % interval +"))
        #expect(!AddedLatencyExpectation(probe: "p", fault: "slow", max: 10 * Self.ms).check(r)[0].passed)
        // An interval that straddles the bound fails it: 50 ms ± 2 ms is not "at least 50.5 ms".
        #expect(!AddedLatencyExpectation(probe: "p", fault: "slow", min: 50_500_000).check(r)[0].passed)
    }

    @Test("nothing added: at most 10 ms passes; too few samples is a failure that says so")
    func nothingAdded() {
        let r = run(slow: 1 * Self.ms, high: 0.01)
        #expect(AddedLatencyExpectation(probe: "p", fault: "slow", max: 10 * Self.ms).check(r)[0].passed)
        var sparse = r
        sparse.series[0] = ProbeSeries(probe: "p", kind: "command", interval: nil)
        let few = AddedLatencyExpectation(probe: "p", fault: "slow", min: 1).check(sparse)[0]
        #expect(!few.passed && few.measured.hasPrefix("too few successful samples"))
    }

    @Test("values: a lag of 60 ms during the fault against 10 ms outside is +0.05")
    func values() {
        let r = run(slow: 1 * Self.ms, high: 0.06)
        let c = AddedValueExpectation(probe: "p", fault: "slow", min: 0.04).check(r)[0]
        #expect(c.passed && c.measured.hasPrefix("+0.05"), "\(c.measured)")
        #expect(!AddedValueExpectation(probe: "p", fault: "slow", max: 0.01).check(r)[0].passed)
    }

    @Test("a series gains values from its first valued sample, the earlier ones nil")
    func backfill() {
        var s = ProbeSeries(probe: "p", kind: "command", interval: nil)
        s.append(scheduled: 0, started: 0, latency: 1, ok: false, reason: "x")
        s.append(scheduled: 1, started: 1, latency: 1, ok: true, reason: nil, value: 2.5)
        #expect(s.values == [nil, 2.5])
    }
}
