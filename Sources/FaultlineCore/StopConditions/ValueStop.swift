import Yams

/// `value`: stop when the number a `value: true` probe recorded (replication lag, a queue's
/// depth, a Prometheus query's result) goes above `above` or below `below`.
public struct ValueStop: StopConditionKindReader, Equatable {
    public static let key = "value"
    public static let summary = "stop when the number a 'value: true' probe recorded is above 'above' or below 'below'"

    public var probe: String
    public var above: Double?
    public var below: Double?

    public var window: Nanos { 0 }

    public var description: String {
        let bounds = [above.map { "above \(Self.format($0))" }, below.map { "below \(Self.format($0))" }].compactMap { $0 }
        return "value of \(probe) \(bounds.joined(separator: " or "))"
    }

    static func format(_ v: Double) -> String { String(format: "%g", v) }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> ValueStop? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "above", "below"]) else { return nil }
        var bounds: [String: Double] = [:]
        for key in ["above", "below"] where f.has(key) {
            guard case .scalar(let s)? = f.values[key], let v = Double(s.string), v.isFinite else {
                r.error(f.values[key], "'\(f.child(key))' must be a number (in the probe's own unit)")
                continue
            }
            bounds[key] = v
        }
        if !f.has("above"), !f.has("below") { r.error(f.node, "'\(path)' needs 'above' or 'below' (or both)") }
        guard let probe = c.probe(f) else { return nil }
        if probe == ProbeSeries.workloadName || c.experiment.probes.contains(where: { $0.name == probe && !$0.recordsValues }) {
            r.error(
                f.values["probe"] ?? f.node,
                "'\(path)' reads \(shown: probe), which records no values: give it 'value: true' (a command probe printing a number)")
            return nil
        }
        guard !bounds.isEmpty else { return nil }
        return ValueStop(probe: probe, above: bounds["above"], below: bounds["below"])
    }

    public func breach(_ recent: ProbeSeries, at now: Nanos) -> String? {
        guard let last = recent.values?.last, let v = last else { return nil }
        if let a = above, v > a { return "it recorded \(Self.format(v)), above \(Self.format(a))" }
        if let b = below, v < b { return "it recorded \(Self.format(v)), below \(Self.format(b))" }
        return nil
    }
}
