import Yams

/// `availability`: stop when the share of the last `window` a probe was up falls below `below`
/// (time-weighted, as the availability expectation counts it).
public struct AvailabilityStop: StopConditionKindReader, Equatable {
    public static let key = "availability"
    public static let summary = "stop when a probe was up less than 'below' of the last 'window' (time-weighted)"

    public var probe: String
    public var below: Double
    public var window: Nanos

    public var description: String {
        "availability of \(probe) below \(PercentText.format(below)) over \(DurationText.format(window))"
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> AvailabilityStop? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "below", "window"]) else { return nil }
        let below = r.percent(f, "below", required: true)
        let window = r.window(f, default: 1_000_000_000)
        guard let probe = c.probe(f), let below else { return nil }
        return AvailabilityStop(probe: probe, below: below, window: window)
    }

    public func breach(_ recent: ProbeSeries, at now: Nanos) -> String? {
        let r = ProbeStatistics.availability(recent, windows: [(now - window)..<now], inside: true)
        guard r.total > 0 else { return nil }
        let value = Double(r.up) / Double(r.total)
        guard value < below else { return nil }
        return
            "up \(PercentText.format(value)) of the last \(DurationText.format(window)) (\(DurationText.format(r.up)) of \(DurationText.format(r.total)), \(r.samples) samples)"
    }
}
