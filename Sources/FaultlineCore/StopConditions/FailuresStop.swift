import Yams

/// `failures`: stop when the newest `consecutive` samples of a probe all failed — a guard
/// command's exit (a `command` probe) or a health check, taken at its word.
public struct FailuresStop: StopConditionKindReader, Equatable {
    public static let key = "failures"
    public static let summary = "stop when a probe's newest 'consecutive' samples all failed (a guard command's exit)"

    public var probe: String
    public var consecutive: Int

    public var window: Nanos { 0 }
    public var depth: Int { consecutive }

    public var description: String {
        consecutive == 1 ? "\(probe) fails" : "\(probe) fails \(consecutive) times in a row"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> FailuresStop? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "consecutive"]) else { return nil }
        let n = r.int(f, "consecutive", range: 1...10_000) ?? 1
        guard let probe = c.probe(f) else { return nil }
        return FailuresStop(probe: probe, consecutive: n)
    }

    public func breach(_ recent: ProbeSeries, at now: Nanos) -> String? {
        guard recent.count >= consecutive, recent.ok.suffix(consecutive).allSatisfy({ !$0 }) else { return nil }
        let reason = recent.failures.last?.reason ?? "failed"
        return consecutive == 1 ? "its sample failed: \(reason)" : "its last \(consecutive) samples failed (latest: \(reason))"
    }
}
