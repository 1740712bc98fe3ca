import Yams

/// `latency`: stop when a quantile of the latencies of the samples that started in the last
/// `window` exceeds `above` (a timeout counts as its whole wait).
public struct LatencyStop: StopConditionKindReader, Equatable {
    public static let key = "latency"
    public static let summary = "stop when the 'quantile' of a probe's latency over the last 'window' exceeds 'above'"

    public var probe: String
    public var quantile: Double
    public var above: Nanos
    public var window: Nanos
    public var minSamples: Int

    /// `p99`, `p99.9`.
    var label: String { "p\(PercentText.format(quantile).dropLast())" }

    public var description: String {
        "\(label) latency of \(probe) above \(DurationText.format(above)) over \(DurationText.format(window))"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> LatencyStop? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "quantile", "above", "window", "min_samples"]) else { return nil }
        let quantile = r.percent(f, "quantile") ?? 0.99
        if !(0.01...1).contains(quantile) { r.error(f.values["quantile"], "'\(f.child("quantile"))' must be from 1% to 100%") }
        let above = r.duration(f, "above", required: true, positive: true, max: Bounds.hour)
        let window = r.window(f, default: 1_000_000_000)
        let least = r.int(f, "min_samples", range: 1...1_000_000) ?? 5
        guard let probe = c.probe(f), let above else { return nil }
        return LatencyStop(probe: probe, quantile: quantile, above: above, window: window, minSamples: least)
    }

    public func breach(_ recent: ProbeSeries, at now: Nanos) -> String? {
        let within = recent.indices(within: window, before: now)
        guard within.count >= minSamples else { return nil }
        let sorted = within.map { recent.latency[$0] }.sorted()
        // The nearest-rank quantile: the smallest latency at least `quantile` of the samples reach.
        let rank = max(1, Int((quantile * Double(sorted.count)).rounded(.up)))
        let q = sorted[min(sorted.count, rank) - 1]
        guard q > above else { return nil }
        return "\(label) latency \(DurationText.format(q)) over \(within.count) samples of the last \(DurationText.format(window))"
    }
}
