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
        let windows: [Range<Nanos>]
        switch window {
        case .all: windows = [run.phase]
        case .faults, .outside: windows = run.faultWindows
        }
        let (up, total, samples, leftOut, stalled) = ProbeStatistics.availability(
            s, windows: windows, inside: window != .outside, stalls: run.stalls)
        let expected = "≥ \(PercentText.format(min))"
        guard total > 0 else { return [CheckResult(name: name, passed: false, expected: expected, measured: "no samples in window")] }
        let value = Double(up) / Double(total)
        var evidence = "up \(DurationText.format(up)) of \(DurationText.format(total)) observed, \(samples) samples (time-weighted)"
        if leftOut > 0 { evidence += "; \(DurationText.format(leftOut)) left out: failed samples whose request overlapped a fault" }
        if stalled > 0 {
            let longest = run.stalls.map { $0.upperBound - $0.lowerBound }.max() ?? 0
            evidence +=
                "; \(DurationText.format(stalled)) left out: failed samples whose request overlapped a stall of the runner itself (longest \(DurationText.format(longest)))"
        }
        return [
            CheckResult(
                name: name, passed: value >= min, expected: expected, measured: PercentText.format(value), evidence: evidence,
                value: Quantity(value: value, unit: "ratio"), bound: Quantity(value: min, unit: "ratio"))
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
