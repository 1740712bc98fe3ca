import Foundation
import Yams

/// `value`: what a fault adds to the number a probe records (`value: true` command probes:
/// replication lag, a queue's depth) — a quantile inside the fault's window against the same
/// quantile outside every fault window — is at least `min` and/or at most `max`,
/// judged on the difference's whole 95 % interval, as `latency` is.
public struct AddedValueExpectation: ExpectationKindReader, Equatable {
    public static let key = "added_value"
    public static let summary = "a fault adds at least/at most this to the number a 'value: true' probe records, with its 95 % interval"

    public var probe: String
    public var fault: String
    public var quantile: Double
    public var min: Double?
    public var max: Double?

    public init(probe: String, fault: String, quantile: Double = 0.5, min: Double? = nil, max: Double? = nil) {
        self.probe = probe
        self.fault = fault
        self.quantile = quantile
        self.min = min
        self.max = max
    }

    var q: String { "p\(DurationText.trim(quantile * 100))" }
    public var name: String { "added_value(\(probe), \(q) during \(fault))" }
    public var description: String { "\(fault) adds \(expected) to the \(q) of \(probe)'s values" }

    var expected: String {
        let f = { (v: Double) in DurationText.trim(v) }
        switch (min, max) {
        case (let lo?, let hi?): return "added \(f(lo)) to \(f(hi))"
        case (let lo?, nil): return "added ≥ \(f(lo))"
        case (nil, let hi?): return "added ≤ \(f(hi))"
        default: return "-"
        }
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> AddedValueExpectation? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "fault", "quantile", "min", "max"]) else { return nil }
        let quantile = r.percent(f, "quantile") ?? 0.5
        if !(0.01...0.99).contains(quantile) { r.error(f.values["quantile"], "'\(path).quantile' must be from 1% to 99%") }
        var lo: Double?
        var hi: Double?
        for key in ["min", "max"] where f.has(key) {
            guard case .scalar(let s)? = f.values[key], let v = Double(s.string), v.isFinite else {
                r.error(f.values[key], "'\(path).\(key)' must be a number (in the probe's own unit)")
                continue
            }
            if key == "min" { lo = v } else { hi = v }
        }
        if !f.has("min"), !f.has("max") { r.error(node, "'\(path)' needs 'min' or 'max' (or both): what the fault may add") }
        let fault = c.fault(f)
        if fault == nil { r.error(node, "'\(path)' measures what a fault adds, but the experiment has no faults") }
        guard let probe = c.probe(f), let fault, lo != nil || hi != nil else { return nil }
        if !c.experiment.probes.contains(where: { $0.name == probe && $0.recordsValues }) {
            r.error(
                f.values["probe"],
                "'\(path).probe' \(shown: probe) records no values: give it 'value: true' (a command probe printing a number)")
            return nil
        }
        return AddedValueExpectation(probe: probe, fault: fault, quantile: quantile, min: lo, max: hi)
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let s = run.series(named: probe), let values = s.values else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "no values recorded")]
        }
        guard let f = run.faults.first(where: { $0.name == fault }), f.injectedAt != nil else {
            return [CheckResult(name: name, passed: false, expected: expected, measured: "fault \(shown: fault) was not injected")]
        }
        let split = FaultComparison(s, fault: f, run: run) { i in s.ok[i] ? values[i] : nil }
        guard let c = split.compare(quantile) else {
            return [
                CheckResult(
                    name: name, passed: false, expected: expected,
                    measured:
                        "too few values to say (\(split.inside.count) during \(fault), \(split.outside.count) outside; 10 each needed)")
            ]
        }
        let passed = (min.map { c.low >= $0 } ?? true) && (max.map { c.high <= $0 } ?? true)
        let g = { (v: Double) in String(format: "%+.3g", v) }
        return [
            CheckResult(
                name: name, passed: passed, expected: expected, measured: "\(g(c.added)) (95 % interval \(g(c.low)) to \(g(c.high)))",
                evidence:
                    "\(q) \(String(format: "%.3g", c.inside)) during \(fault) (\(split.inside.count) samples), \(String(format: "%.3g", c.outside)) outside every fault (\(split.outside.count) samples)"
            )
        ]
    }
}
