/// One judged expectation, with what was expected and what was measured.
public struct CheckResult: Codable, Equatable, Sendable {
    public var name: String
    public var passed: Bool
    public var expected: String
    public var measured: String
    /// Evidence a reader needs to trust the figure (sample counts, first failure, …).
    public var evidence: String?

    public init(name: String, passed: Bool, expected: String, measured: String, evidence: String? = nil) {
        self.name = name
        self.passed = passed
        self.expected = expected
        self.measured = measured
        self.evidence = evidence
    }
}

/// Judges an experiment's expectations over what the run recorded. Pure.
public enum ExpectationChecker {
    /// Every expectation's results, in the order the expectations were read.
    public static func check(_ expectations: [Expectation], _ run: RunEvidence) -> [CheckResult] {
        expectations.flatMap { $0.check(run) }
    }
}
