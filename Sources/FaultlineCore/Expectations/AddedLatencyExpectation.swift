import Foundation
import Yams

/// `latency`: what a fault adds to a probe's (or the workload's) latency — a quantile of the
/// successful samples that ran inside the fault's window against the same quantile outside
/// every fault window — is at least `min` and/or at most `max`. The difference
/// comes with the 95 % interval its two samples allow (order statistics of each side), and the
/// check passes only when the whole interval does.
public struct AddedLatencyExpectation: ExpectationKindReader, Equatable {
    public static let key = "added_latency"
    public static let summary =
        "a fault adds at least/at most this to a probe's (or the workload's) latency quantile, with its 95 % interval"

    public var probe: String
    public var fault: String
    public var quantile: Double
    public var min: Nanos?
    public var max: Nanos?

    public init(probe: String, fault: String, quantile: Double = 0.5, min: Nanos? = nil, max: Nanos? = nil) {
        self.probe = probe
        self.fault = fault
        self.quantile = quantile
        self.min = min
        self.max = max
    }

    var q: String { "p\(DurationText.trim(quantile * 100))" }
    public var name: String { "added_latency(\(probe), \(q) during \(fault))" }
    public var description: String { "\(fault) adds \(bounds) to the \(q) latency of \(probe)" }

    var bounds: String {
        switch (min, max) {
        case (let lo?, let hi?): return "\(DurationText.format(lo)) to \(DurationText.format(hi))"
        case (let lo?, nil): return "at least \(DurationText.format(lo))"
        case (nil, let hi?): return "at most \(DurationText.format(hi))"
        default: return "anything"
        }
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> AddedLatencyExpectation? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "fault", "quantile", "min", "max"]) else { return nil }
        let quantile = r.percent(f, "quantile") ?? 0.5
        if !(0.01...0.99).contains(quantile) { r.error(f.values["quantile"], "'\(path).quantile' must be from 1% to 99%") }
        let lo = r.duration(f, "min", max: Bounds.hour)
        let hi = r.duration(f, "max", max: Bounds.hour)
        if !f.has("min"), !f.has("max") { r.error(node, "'\(path)' needs 'min' or 'max' (or both): what the fault may add") }
        if let lo, let hi, lo > hi { r.error(node, "'\(path)' has min above max") }
        let fault = c.fault(f)
        if fault == nil { r.error(node, "'\(path)' measures what a fault adds, but the experiment has no faults") }
        guard let probe = c.probe(f), let fault, lo != nil || hi != nil else { return nil }
        return AddedLatencyExpectation(probe: probe, fault: fault, quantile: quantile, min: lo, max: hi)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        let expected: String
        switch (min, max) {
        case (let lo?, let hi?): expected = "added \(DurationText.format(lo)) to \(DurationText.format(hi))"
        case (let lo?, nil): expected = "added ≥ \(DurationText.format(lo))"
        case (nil, let hi?): expected = "added ≤ \(DurationText.format(hi))"
        default: expected = "-"
        }
        guard let s = run.series(named: probe) else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "no samples recorded")]
        }
        guard let f = run.faults.first(where: { $0.name == fault }), f.injectedAt != nil else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "fault \(shown: fault) was not injected")]
        }
        let split = FaultComparison(s, fault: f, run: run) { i in s.ok[i] ? Double(s.latency[i]) : nil }
        guard let c = split.compare(quantile) else {
            return [
                CheckResult(
                    name: name, passed: false, expected: expected,
                    measured:
                        "too few successful samples to say (\(split.inside.count) during \(fault), \(split.outside.count) outside; 10 each needed)"
                )
            ]
        }
        let (low, high) = (Nanos(c.low), Nanos(c.high))
        let passed = (min.map { low >= $0 } ?? true) && (max.map { high <= $0 } ?? true)
        let sign = { (v: Nanos) in v < 0 ? "−\(DurationText.format(-v))" : "+\(DurationText.format(v))" }
        return [
            CheckResult(
                name: name, passed: passed, expected: expected,
                measured: "\(sign(Nanos(c.added))) (95 % interval \(sign(low)) to \(sign(high)))",
                evidence:
                    "\(q) \(DurationText.format(Nanos(c.inside))) during \(fault) (\(split.inside.count) samples), \(DurationText.format(Nanos(c.outside))) outside every fault (\(split.outside.count) samples)"
            )
        ]
    }
}
