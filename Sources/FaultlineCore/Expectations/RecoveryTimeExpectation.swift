import Yams

/// `recovery_time`: from a fault's injection to the completion of the first success of
/// `streak` in a row is at most `max`; never recovering is a failure, never a number.
public struct RecoveryTimeExpectation: ExpectationKindReader, Equatable {
    public static let key = "recovery_time"
    public static let summary = "from a fault's injection until a probe (or the workload) succeeds `streak` times in a row"

    public var probe: String
    public var max: Nanos
    public var fault: String
    public var streak: Int

    public init(probe: String, max: Nanos, fault: String, streak: Int = 3) {
        self.probe = probe
        self.max = max
        self.fault = fault
        self.streak = streak
    }

    public var name: String { "recovery_time(\(probe), after \(fault))" }
    public var description: String {
        "\(probe) recovers within \(DurationText.format(max)) of \(shown: fault) (\(streak) successes in a row)"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> RecoveryTimeExpectation? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "max", "fault", "streak"]) else { return nil }
        let max = r.duration(f, "max", required: true)
        let streak = r.int(f, "streak", range: 1...1_000_000) ?? 3
        let fault = c.fault(f)
        if fault == nil { r.error(node, "'\(path)' measures recovery after a fault, but the experiment has no faults") }
        guard let probe = c.probe(f), let max, let fault else { return nil }
        return RecoveryTimeExpectation(probe: probe, max: max, fault: fault, streak: streak)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let s = run.series(named: probe) else {
            return [CheckResult(name: name, passed: false, expected: "-", measured: "no samples recorded")]
        }
        let expected = "≤ \(DurationText.format(max))"
        guard let start = run.faultStarts[fault] else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "fault \(shown: fault) was not injected")]
        }
        guard let (earliest, rto) = ProbeStatistics.recovery(s, from: start, streak: streak) else {
            return [
                CheckResult(
                    name: name, passed: false, expected: expected, measured: "not recovered",
                    evidence: "no run of \(streak) successful samples after the first failure")
            ]
        }
        // The samples bracket the instant: the last failed sample started before it, the first
        // success of the streak ended after it. The bound judged is the later one.
        let evidence =
            rto == 0
            ? "the probe never failed after the fault"
            : "recovered between +\(DurationText.format(earliest)) (the last failed sample started) and +\(DurationText.format(rto)) (the first of \(streak) successes in a row ended) after the fault"
        return [CheckResult(name: name, passed: rto <= max, expected: expected, measured: DurationText.format(rto), evidence: evidence)]
    }
}
