/// One judged expectation, with what was expected and what was measured.
public struct CheckResult: Codable, Equatable, Sendable {
    public var name: String
    public var passed: Bool
    public var expected: String
    public var measured: String
    /// Evidence a reader needs to trust the figure (sample counts, first failure, …).
    public var evidence: String?
    /// `measured` as a number with its unit and the bracket its sampling allows, for a
    /// program to read without parsing text.
    public var value: Quantity?
    /// The bound `expected` states, as a number in the same unit (a maximum unless said).
    public var bound: Quantity?

    public init(
        name: String, passed: Bool, expected: String, measured: String, evidence: String? = nil, value: Quantity? = nil,
        bound: Quantity? = nil
    ) {
        self.name = name
        self.passed = passed
        self.expected = expected
        self.measured = measured
        self.evidence = evidence
        self.value = value
        self.bound = bound
    }
}

/// A figure as a number: `{"value": 2.4, "unit": "s", "lower": 2.35, "upper": 2.4}`. The
/// truth lies between `lower` and `upper` (when given); `value` is the figure judged, which
/// for a bound is the bracket's far end — a maximum passes only when `upper` is within it.
public struct Quantity: Codable, Equatable, Sendable {
    public var value: Double
    public var unit: String
    public var lower: Double?
    public var upper: Double?

    public init(value: Double, unit: String, lower: Double? = nil, upper: Double? = nil) {
        self.value = value
        self.unit = unit
        self.lower = lower
        self.upper = upper
    }

    /// Nanoseconds as seconds (exact to the nanosecond the journal keeps).
    public static func seconds(_ ns: Nanos, lower: Nanos? = nil, upper: Nanos? = nil) -> Quantity {
        func s(_ v: Nanos) -> Double { Double(v) / 1e9 }
        return Quantity(value: s(ns), unit: "s", lower: lower.map(s), upper: upper.map(s))
    }
}

/// Judges an experiment's expectations over what the run recorded. Pure.
public enum ExpectationChecker {
    /// Every expectation's results, in the order the expectations were read.
    public static func check(_ expectations: [Expectation], _ run: RunEvidence) -> [CheckResult] {
        expectations.flatMap { $0.check(run) }
    }
}
