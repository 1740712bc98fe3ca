import Yams

/// `error_rate`: stop when more than `above` of the samples (or workload operations) that
/// started in the last `window` failed — counted, not time-weighted.
public struct ErrorRateStop: StopConditionKindReader, Equatable {
    public static let key = "error_rate"
    public static let summary = "stop when more than 'above' of the samples or operations of the last 'window' failed"

    public var probe: String
    public var above: Double
    public var window: Nanos
    /// Fewer samples than this in the window say nothing (one failure of one is 100 %).
    public var minSamples: Int

    public var description: String {
        "error rate of \(probe) above \(PercentText.format(above)) over \(DurationText.format(window))"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> ErrorRateStop? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "above", "window", "min_samples"]) else { return nil }
        let above = r.percent(f, "above", required: true)
        let window = r.window(f, default: 1_000_000_000)
        let least = r.int(f, "min_samples", range: 1...1_000_000) ?? 5
        guard let probe = c.probe(f), let above else { return nil }
        return ErrorRateStop(probe: probe, above: above, window: window, minSamples: least)
    }

    public func breach(_ recent: ProbeSeries, at now: Nanos) -> String? {
        let within = recent.indices(within: window, before: now)
        guard within.count >= minSamples else { return nil }
        let failed = within.filter { !recent.ok[$0] }.count
        let rate = Double(failed) / Double(within.count)
        guard rate > above else { return nil }
        return "\(failed) of \(within.count) failed in the last \(DurationText.format(window)) (\(PercentText.format(rate)))"
    }
}
