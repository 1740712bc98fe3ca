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
    /// The number each sample recorded (probes with `value: true`; nil where it printed none).
    public var values: [Double?]?
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
    public mutating func append(
        scheduled s: Nanos, started t: Nanos, latency l: Nanos, ok success: Bool, reason: String?, value: Double? = nil
    ) {
        scheduled.append(s)
        started.append(t)
        latency.append(l)
        ok.append(success)
        if value != nil || values != nil {
            if values == nil { values = [Double?](repeating: nil, count: ok.count - 1) }
            values?.append(value)
        }
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

extension ProbeSeries {
    /// The name under which expectations (`availability`, `recovery_time`, `error_window`)
    /// judge the workload's own operations, as if they were probe samples.
    public static let workloadName = "workload"

    /// The workload's operations as samples, in invocation order: an operation succeeded when
    /// it was acknowledged (`ok`).
    /// The workload's operations as one series per endpoint (named by it), in the order the
    /// endpoints first answered.
    public static func byEndpoint(_ h: History) -> [ProbeSeries] {
        var index: [String: Int] = [:]
        var out: [ProbeSeries] = []
        for op in h.ops.sorted(by: { $0.invokedAt < $1.invokedAt }) {
            let i =
                index[op.endpoint]
                ?? {
                    // "-": the client had no connection to any endpoint for this operation.
                    out.append(ProbeSeries(probe: op.endpoint == "-" ? "no endpoint" : op.endpoint, kind: "workload", interval: nil))
                    index[op.endpoint] = out.count - 1
                    return out.count - 1
                }()
            out[i].append(
                scheduled: op.invokedAt, started: op.invokedAt, latency: op.completedAt - op.invokedAt, ok: op.outcome == .ok,
                reason: op.outcome == .ok ? nil : "\(op.kind.rawValue) \(op.outcome.rawValue)")
        }
        return out
    }

    public init(workload h: History) {
        self.init(probe: Self.workloadName, kind: "workload", interval: nil)
        for op in h.ops.sorted(by: { $0.invokedAt < $1.invokedAt }) {
            append(
                scheduled: op.invokedAt, started: op.invokedAt, latency: op.completedAt - op.invokedAt, ok: op.outcome == .ok,
                reason: op.outcome == .ok ? nil : "\(op.kind.rawValue) \(op.outcome.rawValue)")
        }
    }
}
