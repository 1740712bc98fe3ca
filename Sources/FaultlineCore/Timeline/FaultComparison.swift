/// A probe's samples split by one fault: those that ran entirely inside its window (from its
/// confirmation, or injection, to its revert) and those that overlapped no fault window at all.
/// `measure` gives a sample's figure (its latency, its recorded value), nil to leave it out.
public struct FaultComparison: Sendable {
    public let inside: [Double]
    public let outside: [Double]

    public init(_ s: ProbeSeries, fault f: FaultRecord, run: RunEvidence, measure: (Int) -> Double?) {
        let start = f.confirmedAt ?? f.injectedAt ?? run.phase.upperBound
        let end = f.revertedAt ?? run.phase.upperBound
        var inside: [Double] = []
        var outside: [Double] = []
        for i in 0..<s.count {
            guard let v = measure(i) else { continue }
            let a = s.started[i]
            let b = a + s.latency[i]
            if a >= start, b <= end {
                inside.append(v)
            } else if !run.faultWindows.contains(where: { a < $0.upperBound && b > $0.lowerBound }) {
                outside.append(v)
            }
        }
        self.inside = inside.sorted()
        self.outside = outside.sorted()
    }

    /// A quantile of each side, their difference, and the difference's 95 % interval (each
    /// side's from order statistics: the normal approximation to the binomial count of samples
    /// below the true quantile). Nil with fewer than 10 samples on a side.
    public func compare(_ p: Double) -> (inside: Double, outside: Double, added: Double, low: Double, high: Double)? {
        guard inside.count >= 10, outside.count >= 10 else { return nil }
        let i = Self.quantile(inside, p)
        let o = Self.quantile(outside, p)
        return (i.value, o.value, i.value - o.value, i.low - o.high, i.high - o.low)
    }

    static func quantile(_ xs: [Double], _ p: Double) -> (value: Double, low: Double, high: Double) {
        let n = Double(xs.count)
        let k = p * n
        let half = 1.96 * (n * p * (1 - p)).squareRoot()
        let at = { (r: Double) in xs[max(0, min(xs.count - 1, Int(r)))] }
        return (at(k), at((k - half).rounded(.down)), at((k + half).rounded(.up)))
    }
}
