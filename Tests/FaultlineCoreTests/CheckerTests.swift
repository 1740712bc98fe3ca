import Testing

@testable import FaultlineCore

/// Builds a probe series from a pattern: one character per sample, `.` ok and `x` failed,
/// samples every `interval` ms starting at 0, each taking `latency` ms.
func series(_ pattern: String, interval: Int64 = 100, latency: Int64 = 1, name: String = "web") -> ProbeSeries {
    var s = ProbeSeries(probe: name, kind: "http", interval: interval * 1_000_000)
    for (i, c) in pattern.enumerated() {
        let t = Int64(i) * interval * 1_000_000
        s.append(scheduled: t, started: t, latency: latency * 1_000_000, ok: c == ".", reason: c == "." ? nil : "refused")
    }
    return s
}

let ms: Int64 = 1_000_000

@Suite("checkers on synthetic timelines")
struct CheckerTests {
    @Test("availability is time-weighted over the whole phase")
    func availabilityAll() {
        let s = series("..........xxxxx.....")  // 20 samples, 5 failed → 75%
        let r = ProbeStatistics.availability(s, windows: [0..<(2_000 * ms)], inside: true)
        #expect(r.total == 2_000 * ms)
        #expect(r.up == 1_500 * ms)
        #expect(r.samples == 20)
    }

    @Test("a slow failing sample weighs as much as the time it covered")
    func availabilityTimeWeighted() {
        var s = ProbeSeries(probe: "web", kind: "http", interval: 10 * ms)
        s.append(scheduled: 0, started: 0, latency: 1 * ms, ok: true, reason: nil)
        s.append(scheduled: 10 * ms, started: 10 * ms, latency: 500 * ms, ok: false, reason: "timeout")
        s.append(scheduled: 520 * ms, started: 520 * ms, latency: 1 * ms, ok: true, reason: nil)
        let r = ProbeStatistics.availability(s, windows: [0..<(530 * ms)], inside: true)
        #expect(r.up == 20 * ms)
        #expect(r.total == 530 * ms)
    }

    @Test("availability inside and outside fault windows")
    func availabilityWindows() {
        let s = series("..........xxxxx.....")
        let window = [(1_000 * ms)..<(1_500 * ms)]
        let inside = ProbeStatistics.availability(s, windows: window, inside: true)
        let outside = ProbeStatistics.availability(s, windows: window, inside: false)
        #expect(inside.up == 0 && inside.total == 500 * ms)
        #expect(outside.up == 1_500 * ms && outside.total == 1_500 * ms)
    }

    @Test("outside the faults, a failed sample in flight when a fault began (or ended) is left out, not blamed")
    func availabilityStraddling() {
        // Samples every 100 ms; the one started at 500 ms takes 120 ms and fails: the kill came
        // at 560 ms, while it was in flight. The next fails inside the window.
        var s = ProbeSeries(probe: "web", kind: "http", interval: 100 * ms)
        for k in 0..<5 { s.append(scheduled: Nanos(k) * 100 * ms, started: Nanos(k) * 100 * ms, latency: 1 * ms, ok: true, reason: nil) }
        s.append(scheduled: 500 * ms, started: 500 * ms, latency: 120 * ms, ok: false, reason: "connection reset")
        s.append(scheduled: 620 * ms, started: 620 * ms, latency: 1 * ms, ok: false, reason: "refused")
        for k in 7..<10 { s.append(scheduled: Nanos(k) * 100 * ms, started: Nanos(k) * 100 * ms, latency: 1 * ms, ok: true, reason: nil) }
        let window = [(560 * ms)..<(690 * ms)]
        let outside = ProbeStatistics.availability(s, windows: window, inside: false)
        // Its 60 ms before the window, and the 10 ms after it that the failure at 620 ms stands
        // for, are left out; everything else outside was up.
        #expect(outside.leftOut == 70 * ms && outside.up == outside.total && outside.total == 800 * ms, "\(outside)")
        let inside = ProbeStatistics.availability(s, windows: window, inside: true)
        #expect(inside.up == 0 && inside.total == 130 * ms && inside.leftOut == 0, "\(inside)")
        // A failed sample wholly outside the window still counts against it.
        var t = s
        t.ok[2] = false
        let blamed = ProbeStatistics.availability(t, windows: window, inside: false)
        #expect(blamed.up == 700 * ms && blamed.total == 800 * ms, "\(blamed)")
        let c = AvailabilityExpectation(probe: "web", min: 0.99, window: .outside)
            .check(RunEvidence(phase: 0..<(1_000 * ms), series: [s], faultWindows: window))
        #expect(c.first?.passed == true && c.first?.evidence?.contains("70ms left out") == true, "\(c)")
    }

    @Test("a failed sample measured across a stall of the runner is left out, named; one that succeeded through it counts")
    func availabilityStalled() {
        // Samples every 50 ms, each 2 ms; the runner stopped from 510 to 670 ms: the sample at
        // 500 ms measured 170 ms and failed its latency bound, the one at 700 ms succeeded.
        var s = ProbeSeries(probe: "web", kind: "http", interval: 50 * ms)
        for k in 0..<10 { s.append(scheduled: Nanos(k) * 50 * ms, started: Nanos(k) * 50 * ms, latency: 2 * ms, ok: true, reason: nil) }
        s.append(scheduled: 500 * ms, started: 500 * ms, latency: 170 * ms, ok: false, reason: "slower than 100ms")
        for k in 14..<20 { s.append(scheduled: Nanos(k) * 50 * ms, started: Nanos(k) * 50 * ms, latency: 2 * ms, ok: true, reason: nil) }
        let phase = [0..<(1_000 * ms)]
        let blamed = ProbeStatistics.availability(s, windows: phase, inside: true)
        #expect(blamed.up == 800 * ms && blamed.total == 1_000 * ms && blamed.stalled == 0, "\(blamed)")
        let stalls = [(510 * ms)..<(670 * ms)]
        let r = ProbeStatistics.availability(s, windows: phase, inside: true, stalls: stalls)
        #expect(r.up == 800 * ms && r.total == 800 * ms && r.stalled == 200 * ms, "\(r)")
        // A stall elsewhere (before the failed request began) changes nothing.
        let apart = ProbeStatistics.availability(s, windows: phase, inside: true, stalls: [(100 * ms)..<(130 * ms)])
        #expect(apart.total == 1_000 * ms && apart.stalled == 0, "\(apart)")
        let c = AvailabilityExpectation(probe: "web", min: 0.95, window: .outside)
            .check(RunEvidence(phase: 0..<(1_000 * ms), series: [s], stalls: stalls))
        #expect(
            c.first?.passed == true
                && c.first?.evidence?.contains(
                    "200ms left out: failed samples whose request overlapped a stall of the runner itself (longest 160ms)")
                    == true,
            "\(c)")
        let without = AvailabilityExpectation(probe: "web", min: 0.95, window: .outside).check(
            RunEvidence(phase: 0..<(1_000 * ms), series: [s]))
        #expect(without.first?.passed == false, "\(without)")
    }

    @Test("recovery time runs from the fault to the first success of a lasting streak")
    func recovery() {
        // fault at 1000ms; failures 1000–1400; a lone success at 1500; failure 1600; streak from 1700.
        let s = series("..........xxxxx.x.....")
        #expect(ProbeStatistics.recoveryTime(s, from: 1_000 * ms, streak: 3) == 701 * ms)
        #expect(ProbeStatistics.recoveryTime(s, from: 1_000 * ms, streak: 1) == 501 * ms)
    }

    @Test("recovery is bracketed by the last failed sample's start and the streak's first success's end")
    func recoveryBracket() {
        let s = series("..........xxxxx.x.....", latency: 30)
        let r = ProbeStatistics.recovery(s, from: 1_000 * ms, streak: 3)
        // The last failure (1600 ms) started 600 ms after the fault; the streak's first success
        // (1700 ms, 30 ms long) ended 730 ms after it.
        #expect(r?.earliest == 600 * ms && r?.latest == 730 * ms, "\(String(describing: r))")
        let x = RecoveryTimeExpectation(probe: "web", max: 1_000 * ms, fault: "kill", streak: 3)
        let c = x.check(RunEvidence(phase: 0..<(2_200 * ms), series: [s], faultStarts: ["kill": 1_000 * ms]))
        #expect(c.first?.measured == "730ms" && c.first?.evidence?.contains("between +600ms") == true, "\(c)")
    }

    @Test("a probe that never failed after the fault recovers in zero time")
    func recoveryNeverDown() {
        #expect(ProbeStatistics.recoveryTime(series("...................."), from: 500 * ms, streak: 3) == 0)
    }

    @Test("no sustained recovery is nil, never a number")
    func recoveryNever() {
        #expect(ProbeStatistics.recoveryTime(series(".....xxxxx"), from: 500 * ms, streak: 3) == nil)
        #expect(ProbeStatistics.recoveryTime(series(".....xxxx.."), from: 500 * ms, streak: 3) == nil)
    }

    @Test("longest error window spans last success to next success, by completion")
    func errorWindow() {
        let s = series("...xx....xxxx...")
        let w = ProbeStatistics.longestErrorWindow(s)
        // last success before the long run completes at 801ms; next success completes at 1301ms
        #expect(w.length == 500 * ms)
        #expect(w.start == 801 * ms)
        // At least from the first failure's end (901 ms) to the last one's start (1200 ms).
        #expect(w.atLeast == 299 * ms)
        #expect(ProbeStatistics.longestErrorWindow(series("......")).length == 0)
        // One failed sample brackets nothing from below.
        #expect(ProbeStatistics.longestErrorWindow(series("...x...")).atLeast == 0)
        let c = ErrorWindowExpectation(probe: "web", max: 400 * ms).check(RunEvidence(phase: 0..<(1_600 * ms), series: [s]))
        #expect(c.first?.passed == false && c.first?.measured == "500ms", "\(c)")
        #expect(c.first?.evidence?.contains("lasted between 299ms") == true && c.first?.evidence?.contains("and 500ms") == true, "\(c)")
    }

    @Test("an error window still open at the end runs to the last sample's end")
    func errorWindowOpen() {
        let w = ProbeStatistics.longestErrorWindow(series("..xxx"))
        // last success completes at 101ms; the last (failed) sample completes at 401ms
        #expect(w.length == 300 * ms)
        #expect(w.atLeast == 199 * ms)
    }

    @Test("expectations become checks with expected and measured values")
    func expectationChecker() {
        let s = series("..........xxxxx.....")
        let checks = ExpectationChecker.check(
            [
                Expectation(AvailabilityExpectation(probe: "web", min: 0.9, window: .all)),
                Expectation(RecoveryTimeExpectation(probe: "web", max: 600 * ms, fault: "kill", streak: 3)),
                Expectation(ErrorWindowExpectation(probe: "web", max: 400 * ms)),
                Expectation(AvailabilityExpectation(probe: "nope", min: 0.5, window: .all)),
                Expectation(RecoveryTimeExpectation(probe: "web", max: 1 * ms, fault: "never-ran", streak: 3)),
            ],
            RunEvidence(
                phase: 0..<(2_000 * ms), series: [s], faultWindows: [(1_000 * ms)..<(2_000 * ms)], faultStarts: ["kill": 1_000 * ms]))
        #expect(checks.map(\.passed) == [false, true, false, false, false])
        #expect(checks[0].measured == "75%")
        #expect(checks[0].expected == "≥ 90%")
        #expect(checks[1].measured == "501ms")
        // from the last success's completion (901ms) to the next success's completion (1501ms)
        #expect(checks[2].measured == "600ms")
        #expect(checks[3].measured == "no samples recorded")
        #expect(checks[4].measured == "fault 'never-ran' was not injected")
    }

    @Test("exit codes: residue outranks every verdict but an internal error")
    func exitCodes() {
        #expect(ExitCode.of(.passed, residue: false) == 0)
        #expect(ExitCode.of(.failed, residue: false) == 1)
        #expect(ExitCode.of(.invalid, residue: false) == 2)
        #expect(ExitCode.of(.aborted, residue: false) == 3)
        #expect(ExitCode.of(.passed, residue: true) == 4)
        #expect(ExitCode.of(.aborted, residue: true) == 4)
        #expect(ExitCode.of(.error, residue: true) == 70)
    }
}
