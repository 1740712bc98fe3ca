/// A series of samples folded into a fixed number of equal time buckets for drawing: each bucket
/// keeps its counts and the extremes of its latencies, successes and failures apart, so that a
/// single failed sample (or a single slow one) among a million still shows. Nothing is averaged.
public struct SampleBuckets: Equatable, Sendable {
    public struct Bucket: Equatable, Sendable {
        public var ok = 0
        public var failed = 0
        /// The smallest and largest latency of the bucket's successes (nil: none), and of its failures.
        public var okLatency: ClosedRange<Nanos>?
        public var failedLatency: ClosedRange<Nanos>?

        public var isEmpty: Bool { ok == 0 && failed == 0 }

        mutating func add(ok success: Bool, latency l: Nanos) {
            if success {
                ok += 1
                okLatency = okLatency.map { min($0.lowerBound, l)...max($0.upperBound, l) } ?? l...l
            } else {
                failed += 1
                failedLatency = failedLatency.map { min($0.lowerBound, l)...max($0.upperBound, l) } ?? l...l
            }
        }
    }

    /// The span the buckets cover, split evenly.
    public let span: Range<Nanos>
    public private(set) var buckets: [Bucket]

    /// Samples at `started[i]` outside `span` are left out (and counted in `outside`).
    public private(set) var outside = 0

    public init(_ s: ProbeSeries, span: Range<Nanos>, count: Int) {
        self.span = span
        buckets = Array(repeating: Bucket(), count: max(1, count))
        let width = Double(max(1, span.upperBound - span.lowerBound))
        let n = buckets.count
        for i in 0..<min(s.started.count, s.ok.count, s.latency.count) {
            let t = s.started[i]
            guard span.contains(t) else {
                outside += 1
                continue
            }
            let b = min(n - 1, Int(Double(t - span.lowerBound) / width * Double(n)))
            buckets[b].add(ok: s.ok[i], latency: max(0, s.latency[i]))
        }
    }

    /// The bucket's start on the run's clock.
    public func start(of index: Int) -> Nanos {
        span.lowerBound + Nanos(Double(span.upperBound - span.lowerBound) * Double(index) / Double(buckets.count))
    }

    /// The smallest and largest latency of any sample (nil: none).
    public var latencyRange: ClosedRange<Nanos>? {
        var lo: Nanos?
        var hi: Nanos?
        for b in buckets {
            for r in [b.okLatency, b.failedLatency].compactMap({ $0 }) {
                lo = min(lo ?? r.lowerBound, r.lowerBound)
                hi = max(hi ?? r.upperBound, r.upperBound)
            }
        }
        guard let lo, let hi else { return nil }
        return lo...hi
    }
}
