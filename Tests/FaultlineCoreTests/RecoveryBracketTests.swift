import Testing

@testable import FaultlineCore

/// recovery_time's bracket on hand-made samples, including the case a real run showed.
@Suite("recovery brackets")
struct RecoveryBracketTests {
    static let ms: Nanos = 1_000_000

    /// Samples (start ms, latency ms, ok).
    func series(_ samples: [(Nanos, Nanos, Bool)]) -> ProbeSeries {
        var s = ProbeSeries(probe: "web", kind: "http", interval: 10 * Self.ms)
        for (t, l, ok) in samples {
            s.append(scheduled: t * Self.ms, started: t * Self.ms, latency: l * Self.ms, ok: ok, reason: ok ? nil : "timeout")
        }
        return s
    }

    @Test("a request in flight when the fault lands meets it: a 200 ms freeze is an outage, not 'never failed'")
    func inFlight() throws {
        // As a real run recorded it: SIGSTOP recorded at 330.2 ms; the sample started at 329 ms
        // timed out (100 ms); the one after was held until SIGCONT (522 ms) and succeeded.
        let s = series([(309, 6, true), (319, 7, true), (329, 101, false), (439, 92, true), (539, 6, true), (549, 5, true), (559, 6, true)])
        let from: Nanos = 330_200_000
        let r = try #require(ProbeStatistics.recovery(s, from: from, streak: 3))
        #expect(r.earliest == 0 && r.latest == 531 * Self.ms - from, "\(r)")
        // A failure that ended before the fault is not the fault's.
        let before = series([(300, 20, false), (329, 1, true), (339, 1, true), (349, 1, true)])
        #expect(ProbeStatistics.recovery(before, from: from, streak: 3).map { $0 == (0, 0) } == true)
    }

    @Test("the bracket: after the last failed sample started, by the end of the streak's first success")
    func bracket() throws {
        let s = series([(0, 1, true), (100, 1, false), (200, 50, false), (300, 1, true), (400, 1, true), (500, 1, true)])
        let r = try #require(ProbeStatistics.recovery(s, from: 50 * Self.ms, streak: 3))
        #expect(r.earliest == 150 * Self.ms && r.latest == 251 * Self.ms)
        // Never a sustained recovery: no number.
        let short = series([(0, 1, true), (100, 1, false), (200, 1, true), (300, 1, false)])
        #expect(ProbeStatistics.recovery(short, from: 50 * Self.ms, streak: 2) == nil)
    }
}
