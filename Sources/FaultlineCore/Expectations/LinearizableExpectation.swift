import Yams

/// `linearizable`: every key's register history is linearizable. The search (Wing–Gong–Lowe
/// per key) gets `budget` of time; over it, or over its memory limit, the verdict is unknown.
public struct LinearizableExpectation: ExpectationKindReader, Equatable {
    public static let key = "linearizable"
    public static let summary = "every key's register history is linearizable; over the search budget: unknown (register workloads)"

    public var budget: Nanos

    public init(budget: Nanos = 10_000_000_000) { self.budget = budget }

    public var name: String { Self.key }
    public var description: String { "every key's history linearizable (search budget \(DurationText.format(budget)))" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> LinearizableExpectation? {
        let r = c.reader
        c.needsRegisters(node, path: path)
        if let b = YAMLText.plainBool(node) {
            if !b { r.error(node, "'\(path)' can only be claimed: true, or {budget: 10s}") }
            return LinearizableExpectation()
        }
        guard let f = r.fields(node, path: path, allowed: ["budget"], what: "true or a mapping with 'budget'") else { return nil }
        return LinearizableExpectation(budget: r.duration(f, "budget", positive: true) ?? 10_000_000_000)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history else { return [] }
        return [LinearizabilityChecker.checks(h.ops, budget: budget, origin: run.phase.lowerBound, name: name, now: run.now)]
    }
}
