import Yams

/// `error_window`: the longest outage — last success before a run of failures to the next
/// success, by completion — is at most `max`.
public struct ErrorWindowExpectation: ExpectationKindReader, Equatable {
    public static let key = "error_window"
    public static let summary = "the longest run of failures of a probe (or the workload), by completion"

    public var probe: String
    public var max: Nanos

    public init(probe: String, max: Nanos) {
        self.probe = probe
        self.max = max
    }

    public var name: String { "error_window(\(probe))" }
    public var description: String { "longest error window of \(probe) ≤ \(DurationText.format(max))" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> ErrorWindowExpectation? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "max"]) else { return nil }
        let max = r.duration(f, "max", required: true)
        guard let probe = c.probe(f), let max else { return nil }
        return ErrorWindowExpectation(probe: probe, max: max)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let s = run.series(named: probe) else {
            return [CheckResult(name: name, passed: false, expected: "-", measured: "no samples recorded")]
        }
        let (len, start, atLeast) = ProbeStatistics.longestErrorWindow(s)
        // The samples bracket the outage; the longer bound is the one judged.
        let evidence = start.map {
            "longest run of failures began at +\(DurationText.format($0 - run.phase.lowerBound)); the outage lasted between "
                + "\(DurationText.format(atLeast)) (the first failed sample's end to the last one's start) and "
                + "\(DurationText.format(len)) (the success before to the success after, by completion)"
        }
        return [
            CheckResult(
                name: name, passed: len <= max, expected: "≤ \(DurationText.format(max))", measured: DurationText.format(len),
                evidence: evidence ?? "no failed sample", value: .seconds(len, lower: Swift.min(atLeast, len), upper: len),
                bound: .seconds(max))
        ]
    }
}
