import Yams

/// `stale_reads`: at most `max` reads return a value that a completed later write had replaced.
public struct StaleReadsExpectation: ExpectationKindReader, Equatable {
    public static let key = "stale_reads"
    public static let summary = "reads of a value a completed write had already replaced (register workloads)"

    public var max: Int

    public init(max: Int) { self.max = max }

    public var name: String { Self.key }
    public var description: String { "at most \(max) stale read(s)" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> StaleReadsExpectation? {
        c.needsRegisters(node, path: path)
        return c.count(node, path: path, of: "reads").map(StaleReadsExpectation.init)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history else { return [] }
        return [StaleReadChecker.checks(h.ops, max: max, origin: run.phase.lowerBound, name: name)]
    }
}
