import Yams

/// `lost_writes`: at most `max` acknowledged writes are absent from the final primary's state.
/// An unknown outcome is never counted as lost.
public struct LostWritesExpectation: ExpectationKindReader, Equatable {
    public static let key = "lost_writes"
    public static let summary = "acknowledged writes absent from the final primary's state, with RPO (set workloads)"

    public var max: Int

    public init(max: Int) { self.max = max }

    public var name: String { Self.key }
    public var description: String { "at most \(max) acknowledged write(s) lost" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> LostWritesExpectation? {
        guard let n = c.count(node, path: path, of: "writes") else { return nil }
        if c.experiment.workload?.replicas.isEmpty ?? true {
            c.reader.error(node, "'\(path)' needs a 'workload' that writes and lists 'replicas' to read at the end")
        } else if c.experiment.workload?.isRegister == true {
            c.reader.error(node, "'\(path)' needs a set workload: registers are overwritten, so use 'stale_reads' or 'linearizable'")
        }
        return LostWritesExpectation(max: n)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history, let r = run.writes.value else { return [] }
        var evidence = r.counts
        if !r.lost.isEmpty {
            let first = r.lost.prefix(5).map {
                "'\($0.value)' acked by \($0.endpoint) at +\(DurationText.format($0.completedAt - run.phase.lowerBound))"
            }
            evidence += "; RPO \(DurationText.format(r.rpo)); first lost: " + first.joined(separator: ", ")
        }
        if h.finalPrimary == nil { evidence += "; no primary answered the final read" }
        return [
            CheckResult(
                name: name, passed: h.finalPrimary != nil && r.lost.count <= max, expected: "≤ \(max)",
                measured: h.finalPrimary == nil ? "unknown (no final read)" : "\(r.lost.count)", evidence: evidence,
                value: h.finalPrimary == nil ? nil : Quantity(value: Double(r.lost.count), unit: "writes"),
                bound: Quantity(value: Double(max), unit: "writes"))
        ]
    }
}
