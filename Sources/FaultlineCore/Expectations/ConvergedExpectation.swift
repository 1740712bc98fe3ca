import Yams

/// `converged`: after the heal, every listed replica is readable and holds the same values.
public struct ConvergedExpectation: ExpectationKindReader, Equatable {
    public static let key = "converged"
    public static let summary = "every replica the workload lists is readable and holds the same data after the heal"

    public var expected: Bool

    public init(_ expected: Bool) { self.expected = expected }

    public var name: String { Self.key }
    public var description: String { expected ? "every replica holds the same data after the heal" : "replicas do not converge" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> ConvergedExpectation? {
        guard let b = YAMLText.plainBool(node) else {
            c.reader.error(node, "'\(path)' must be true or false, got \(NodeReader.describe(node))")
            return nil
        }
        if c.experiment.workload == nil { c.reader.error(node, "'\(path)' needs a 'workload' whose replicas are read") }
        return ConvergedExpectation(b)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history, let r = run.writes.value else { return [] }
        let ok = h.finalPrimary != nil && r.divergent.isEmpty && h.unreadReplicas.isEmpty
        let unread = h.unreadReplicas.isEmpty ? "" : "not readable: \(h.unreadReplicas.joined(separator: ", ")); "
        let evidence =
            unread
            + (r.divergent.isEmpty
                ? "\(h.finalReads.count) replicas hold the same \(h.finalPrimary.flatMap { h.finalReads[$0]?.count } ?? 0) values"
                : r.divergent.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        return [CheckResult(name: name, passed: ok == expected, expected: "\(expected)", measured: "\(ok)", evidence: evidence)]
    }
}
