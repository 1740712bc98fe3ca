/// The samples one probe took, columnar and append-only.
///
/// Times are nanoseconds on the monotonic clock relative to the run's origin.
public struct ProbeSeries: Codable, Equatable, Sendable {
    public var probe: String
    public var kind: String
    public var interval: Nanos?
    /// When each sample was scheduled to start.
    public var scheduled: [Nanos] = []
    /// When each sample actually started.
    public var started: [Nanos] = []
    public var latency: [Nanos] = []
    public var ok: [Bool] = []
    /// The first few distinct failure reasons with how often each was seen.
    public var failures: [FailureCount] = []

    public init(probe: String, kind: String, interval: Nanos?) {
        self.probe = probe
        self.kind = kind
        self.interval = interval
    }

    public struct FailureCount: Codable, Equatable, Sendable {
        public var reason: String
        public var count: Int
        public var firstAt: Nanos
    }

    public var count: Int { ok.count }

    /// Appends one sample; failure reasons are folded to keep memory flat.
    public mutating func append(scheduled s: Nanos, started t: Nanos, latency l: Nanos, ok success: Bool, reason: String?) {
        scheduled.append(s)
        started.append(t)
        latency.append(l)
        ok.append(success)
        guard !success, let reason else { return }
        if let i = failures.firstIndex(where: { $0.reason == reason }) {
            failures[i].count += 1
        } else if failures.count < 20 {
            failures.append(FailureCount(reason: reason, count: 1, firstAt: t))
        }
    }
}

/// Something that happened during a run, on the monotonic clock.
public struct TimelineEvent: Codable, Equatable, Sendable {
    public var at: Nanos
    public var what: String
    public var detail: String?

    public init(at: Nanos, what: String, detail: String? = nil) {
        self.at = at
        self.what = what
        self.detail = detail
    }
}
