import Yams

/// `availability`: the share of observed time a probe was up, in a window, is at least `min`.
public struct AvailabilityExpectation: ExpectationKindReader, Equatable {
    public static let key = "availability"
    public static let summary = "share of observed time a probe (or 'probe: workload') was up: window all | faults | outside"

    public var probe: String
    public var min: Double
    public var window: AvailabilityWindow

    public init(probe: String, min: Double, window: AvailabilityWindow = .all) {
        self.probe = probe
        self.min = min
        self.window = window
    }

    public var name: String { "availability(\(probe), \(window.rawValue))" }
    public var description: String { "availability of \(probe) (\(window.rawValue)) ≥ \(PercentText.format(min))" }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> AvailabilityExpectation? {
        let r = c.reader
        guard let f = r.fields(node, path: path, allowed: ["probe", "min", "window"]) else { return nil }
        let min = r.percent(f, "min", required: true)
        var window = AvailabilityWindow.all
        if let w = r.string(f, "window") {
            if let v = AvailabilityWindow(rawValue: w) {
                window = v
            } else {
                r.error(
                    f.values["window"],
                    "'\(f.child("window"))' must be one of all, faults, outside, got \(shown: w) \(Suggest.hint(for: w, in: AvailabilityWindow.allCases.map(\.rawValue)))"
                )
            }
        }
        guard let probe = c.probe(f), let min else { return nil }
        return AvailabilityExpectation(probe: probe, min: min, window: window)
    }

    /// Time-weighted: a sample stands for the time from its start to the next sample's start.
    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let s = run.series(named: probe) else {
            return [CheckResult(name: name, passed: false, expected: "-", measured: "no samples recorded")]
        }
        let (up, total, samples, leftOut): (Nanos, Nanos, Int, Nanos)
        switch window {
        case .all: (up, total, samples, leftOut) = ProbeStatistics.availability(s, windows: [run.phase], inside: true)
        case .faults: (up, total, samples, leftOut) = ProbeStatistics.availability(s, windows: run.faultWindows, inside: true)
        case .outside: (up, total, samples, leftOut) = ProbeStatistics.availability(s, windows: run.faultWindows, inside: false)
        }
        let expected = "≥ \(PercentText.format(min))"
        guard total > 0 else { return [CheckResult(name: name, passed: false, expected: expected, measured: "no samples in window")] }
        let value = Double(up) / Double(total)
        return [
            CheckResult(
                name: name, passed: value >= min, expected: expected, measured: PercentText.format(value),
                evidence: "up \(DurationText.format(up)) of \(DurationText.format(total)) observed, \(samples) samples (time-weighted)"
                    + (leftOut > 0
                        ? "; \(DurationText.format(leftOut)) left out: failed samples whose request overlapped a fault" : ""))
        ]
    }
}

/// Which part of the run an availability figure covers.
public enum AvailabilityWindow: String, Codable, Sendable, CaseIterable {
    /// The whole fault phase.
    case all
    /// Inside the union of fault windows.
    case faults
    /// Outside every fault window.
    case outside
}
