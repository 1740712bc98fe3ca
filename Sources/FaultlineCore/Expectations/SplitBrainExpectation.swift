import Yams

/// `split_brain`: no older primary acknowledges writes while a newer one does (`false`), or the
/// windows where both did are only measured (`true`).
public struct SplitBrainExpectation: ExpectationKindReader, Equatable {
    public static let key = "split_brain"
    public static let summary = "no two primaries acknowledging writes at once (any workload that writes)"

    public var allowed: Bool

    public init(allowed: Bool) { self.allowed = allowed }

    public var name: String { Self.key }
    public var description: String {
        allowed ? "split brain allowed (measured only)" : "never two endpoints acknowledging writes at once"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> SplitBrainExpectation? {
        guard let b = YAMLText.plainBool(node) else {
            c.reader.error(
                node, "'\(path)' must be true or false (false: never two primaries acknowledging), got \(NodeReader.describe(node))")
            return nil
        }
        if c.experiment.workload == nil { c.reader.error(node, "'\(path)' needs a 'workload' that writes") }
        return SplitBrainExpectation(allowed: b)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history else { return [] }
        return [SplitBrainChecker.checks(h.ops, allowed: allowed, origin: run.phase.lowerBound, name: name)]
    }
}
