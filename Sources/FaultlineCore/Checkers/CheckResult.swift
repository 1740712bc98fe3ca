/// One judged expectation, with what was expected and what was measured.
public struct CheckResult: Codable, Equatable, Sendable {
    public var name: String
    public var passed: Bool
    public var expected: String
    public var measured: String
    /// Evidence a reader needs to trust the figure (sample counts, first failure, …).
    public var evidence: String?

    public init(name: String, passed: Bool, expected: String, measured: String, evidence: String? = nil) {
        self.name = name
        self.passed = passed
        self.expected = expected
        self.measured = measured
        self.evidence = evidence
    }
}

/// Turns expectations and a recorded timeline into check results. Pure.
public enum ExpectationChecker {
    /// Judges every probe expectation (workload expectations are judged by ``WriteChecker``);
    /// `faultStarts` maps fault names to their injection instants.
    public static func check(
        _ expectations: [Expectation], series: [ProbeSeries], faultWindows: [Range<Nanos>],
        faultStarts: [String: Nanos], phase: Range<Nanos>
    ) -> [CheckResult] {
        expectations.compactMap { x in
            guard let probe = probeName(x) else { return nil }
            guard let s = series.first(where: { $0.probe == probe }) else {
                return CheckResult(name: x.name, passed: false, expected: "-", measured: "no samples recorded")
            }
            switch x {
            case .availability(_, let min, let window):
                return availability(x.name, s, min: min, window: window, faultWindows: faultWindows, phase: phase)
            case .recoveryTime(_, let max, let fault, let streak):
                return recovery(x.name, s, max: max, fault: fault, streak: streak, start: faultStarts[fault])
            case .errorWindow(_, let max):
                let (len, start) = ProbeStatistics.longestErrorWindow(s)
                let evidence = start.map { "longest run of failures began at +\(DurationText.format($0 - phase.lowerBound))" }
                return CheckResult(
                    name: x.name, passed: len <= max, expected: "≤ \(DurationText.format(max))",
                    measured: DurationText.format(len), evidence: evidence ?? "no failed sample")
            default:
                return nil
            }
        }
    }

    /// `healed` expectations: from the kill's confirmation to the first new matching process.
    public static func healed(_ expectations: [Expectation], faults: [FaultRecord]) -> [CheckResult] {
        expectations.compactMap { x in
            guard case .healed(let fault, let within) = x else { return nil }
            let expected = "≤ \(DurationText.format(within))"
            guard let f = faults.first(where: { $0.name == fault }), f.confirmed, let killed = f.confirmedAt ?? f.injectedAt else {
                return CheckResult(name: x.name, passed: false, expected: expected, measured: "fault '\(fault)' did not take effect")
            }
            guard let at = f.healedAt else {
                return CheckResult(
                    name: x.name, passed: false, expected: expected, measured: "not healed",
                    evidence: "no new process matching \(f.target) on \(f.host) during the fault phase")
            }
            let took = max(0, at - killed)
            return CheckResult(
                name: x.name, passed: took <= within, expected: expected, measured: DurationText.format(took),
                evidence: "\(f.detail ?? "killed"); replaced by \(f.healedBy ?? "?") on \(f.host) (pid@start time, seen every 20 ms)")
        }
    }

    static func probeName(_ x: Expectation) -> String? {
        switch x {
        case .availability(let p, _, _), .recoveryTime(let p, _, _, _), .errorWindow(let p, _): return p
        default: return nil
        }
    }

    static func availability(
        _ name: String, _ s: ProbeSeries, min: Double, window: AvailabilityWindow, faultWindows: [Range<Nanos>],
        phase: Range<Nanos>
    ) -> CheckResult {
        let (up, total, samples): (Nanos, Nanos, Int)
        switch window {
        case .all: (up, total, samples) = ProbeStatistics.availability(s, windows: [phase], inside: true)
        case .faults: (up, total, samples) = ProbeStatistics.availability(s, windows: faultWindows, inside: true)
        case .outside: (up, total, samples) = ProbeStatistics.availability(s, windows: faultWindows, inside: false)
        }
        let expected = "≥ \(PercentText.format(min))"
        guard total > 0 else {
            return CheckResult(name: name, passed: false, expected: expected, measured: "no samples in window")
        }
        let value = Double(up) / Double(total)
        return CheckResult(
            name: name, passed: value >= min, expected: expected, measured: PercentText.format(value),
            evidence: "up \(DurationText.format(up)) of \(DurationText.format(total)) observed, \(samples) samples (time-weighted)")
    }

    static func recovery(_ name: String, _ s: ProbeSeries, max: Nanos, fault: String, streak: Int, start: Nanos?) -> CheckResult {
        let expected = "≤ \(DurationText.format(max))"
        guard let start else {
            return CheckResult(name: name, passed: false, expected: expected, measured: "fault '\(fault)' was not injected")
        }
        guard let rto = ProbeStatistics.recoveryTime(s, from: start, streak: streak) else {
            return CheckResult(
                name: name, passed: false, expected: expected, measured: "not recovered",
                evidence: "no run of \(streak) successful samples after the first failure")
        }
        let evidence = rto == 0 ? "the probe never failed after the fault" : "first of \(streak) successes in a row"
        return CheckResult(name: name, passed: rto <= max, expected: expected, measured: DurationText.format(rto), evidence: evidence)
    }
}
