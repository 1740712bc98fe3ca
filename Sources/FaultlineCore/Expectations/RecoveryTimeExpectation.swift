import Yams

/// `recovery_time`: from a fault's injection to the completion of the first success of
/// `streak` in a row is at most `max`; never recovering is a failure, never a number.
///
/// With `detected:` and `promoted:` (markers, the system's own log lines) the failover is
/// broken down: detect (injection → the first `detected` line), promote (→ the first
/// `promoted` line after it) and recover (→ the probe's recovery), each a check of its own
/// with its bracket, and a bound when `detect_max` / `promote_max` / `recover_max` give one.
public struct RecoveryTimeExpectation: ExpectationKindReader, Equatable {
    public static let key = "recovery_time"
    public static let summary = "from a fault's injection until a probe (or the workload) succeeds `streak` times in a row"

    public var probe: String
    public var max: Nanos
    public var fault: String
    public var streak: Int
    public var detected: String?
    public var promoted: String?
    public var detectMax: Nanos?
    public var promoteMax: Nanos?
    public var recoverMax: Nanos?

    public init(
        probe: String, max: Nanos, fault: String, streak: Int = 3, detected: String? = nil, promoted: String? = nil,
        detectMax: Nanos? = nil, promoteMax: Nanos? = nil, recoverMax: Nanos? = nil
    ) {
        self.probe = probe
        self.max = max
        self.fault = fault
        self.streak = streak
        self.detected = detected
        self.promoted = promoted
        self.detectMax = detectMax
        self.promoteMax = promoteMax
        self.recoverMax = recoverMax
    }

    public var name: String { "recovery_time(\(probe), after \(fault))" }
    public var description: String {
        "\(probe) recovers within \(DurationText.format(max)) of \(shown: fault) (\(streak) successes in a row)"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> RecoveryTimeExpectation? {
        let r = c.reader
        let keys = ["probe", "max", "fault", "streak", "detected", "promoted", "detect_max", "promote_max", "recover_max"]
        guard let f = r.fields(node, path: path, allowed: keys) else { return nil }
        let max = r.duration(f, "max", required: true)
        let streak = r.int(f, "streak", range: 1...1_000_000) ?? 3
        let fault = c.fault(f)
        if fault == nil { r.error(node, "'\(path)' measures recovery after a fault, but the experiment has no faults") }
        let markers = c.experiment.markers.map(\.name)
        func marker(_ key: String) -> String? {
            guard let m = r.string(f, key) else { return nil }
            if !markers.contains(m) {
                r.error(
                    f.values[key],
                    markers.isEmpty
                        ? "'\(f.child(key))' names marker \(shown: m), but the experiment declares no 'markers'"
                        : "'\(f.child(key))' names marker \(shown: m), which is not declared in 'markers' \(Suggest.hint(for: m, in: markers))"
                )
            }
            return m
        }
        let detected = marker("detected")
        let promoted = marker("promoted")
        for (key, needs) in [("detect_max", detected), ("promote_max", promoted), ("recover_max", promoted ?? detected)]
        where f.has(key) && needs == nil {
            r.error(f.values[key], "'\(f.child(key))' bounds a part of the failover, which needs 'detected' (and 'promoted') markers")
        }
        guard let probe = c.probe(f), let max, let fault else { return nil }
        return RecoveryTimeExpectation(
            probe: probe, max: max, fault: fault, streak: streak, detected: detected, promoted: promoted,
            detectMax: r.duration(f, "detect_max"), promoteMax: r.duration(f, "promote_max"), recoverMax: r.duration(f, "recover_max"))
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let s = run.series(named: probe) else {
            return [CheckResult(name: name, passed: false, expected: "-", measured: "no samples recorded")]
        }
        let expected = "≤ \(DurationText.format(max))"
        let bound = Quantity.seconds(max)
        guard let start = run.faultStarts[fault] else {
            return [
                CheckResult(name: name, passed: false, expected: expected, measured: "fault \(shown: fault) was not injected", bound: bound)
            ]
        }
        guard let (earliest, rto) = ProbeStatistics.recovery(s, from: start, streak: streak) else {
            return [
                CheckResult(
                    name: name, passed: false, expected: expected, measured: "not recovered",
                    evidence: "no run of \(streak) successful samples after the first failure", bound: bound)
            ]
        }
        // The samples bracket the instant: the last failed sample started before it, the first
        // success of the streak ended after it. The bound judged is the later one.
        let evidence =
            rto == 0
            ? "the probe never failed after the fault"
            : "recovered between +\(DurationText.format(earliest)) (the last failed sample started) and +\(DurationText.format(rto)) (the first of \(streak) successes in a row ended) after the fault"
        let total = CheckResult(
            name: name, passed: rto <= max, expected: expected, measured: DurationText.format(rto), evidence: evidence,
            value: .seconds(rto, lower: earliest, upper: rto), bound: bound)
        return [total] + breakdown(run, start: start, recovered: (start + Swift.min(earliest, rto), start + rto))
    }

    /// Detect, promote and recover, from the markers: each part's bracket is the earlier end's
    /// latest instant to the later end's, so the parts' brackets hold the truth whatever the
    /// sampling did.
    func breakdown(_ run: RunEvidence, start: Nanos, recovered: (lower: Nanos, upper: Nanos)) -> [CheckResult] {
        guard detected != nil || promoted != nil else { return [] }
        /// An instant known to within [lower, upper], and what it is.
        typealias Instant = (lower: Nanos, upper: Nanos, what: String)
        func first(_ marker: String, after t: Nanos) -> Instant? {
            guard let m = run.markers.first(where: { $0.name == marker && $0.at >= t }) else { return nil }
            return (m.at, m.at + (m.uncertaintyNs ?? 0), "\(marker) (\(m.source))")
        }
        var out: [CheckResult] = []
        var previous: Instant = (start, start, "the fault")
        let parts: [(String, String?, Nanos?)] = [("detect", detected, detectMax), ("promote", promoted, promoteMax)]
        for (part, marker, bound) in parts {
            guard let marker else { continue }
            guard let m = first(marker, after: previous.lower) else {
                out.append(
                    CheckResult(
                        name: "\(name).\(part)", passed: false,
                        expected: bound.map { "≤ \(DurationText.format($0))" } ?? "a \(marker) line",
                        measured: "no \(marker) line after \(previous.what)", bound: bound.map { .seconds($0) }))
                return out
            }
            out.append(segment(part, from: previous, to: m, bound: bound))
            previous = m
        }
        out.append(segment("recover", from: previous, to: (recovered.lower, recovered.upper, "recovery"), bound: recoverMax))
        return out
    }

    func segment(
        _ part: String, from a: (lower: Nanos, upper: Nanos, what: String), to b: (lower: Nanos, upper: Nanos, what: String), bound: Nanos?
    )
        -> CheckResult
    {
        // Not clamped: a part that comes out negative says the system's line came after what
        // clients saw (a Sentinel answers with the promoted replica before it logs the switch).
        let lower = b.lower - a.upper
        let upper = b.upper - a.lower
        func text(_ v: Nanos) -> String { v < 0 ? "-\(DurationText.format(-v))" : DurationText.format(v) }
        let measured = lower == upper ? text(upper) : "\(text(lower)) – \(text(upper))"
        return CheckResult(
            name: "\(name).\(part)", passed: bound.map { upper <= $0 } ?? true,
            expected: bound.map { "≤ \(DurationText.format($0))" } ?? "measured", measured: measured,
            evidence: "\(a.what) at +\(DurationText.format(a.lower)) → \(b.what) at +\(DurationText.format(b.lower)) on the run's clock"
                + (upper < 0 ? " (the later came first)" : ""),
            value: .seconds(upper, lower: lower, upper: upper), bound: bound.map { .seconds($0) })
    }
}
