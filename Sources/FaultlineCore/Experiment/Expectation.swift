/// A guarantee the experiment claims, checked against the timeline.
public enum Expectation: Codable, Equatable, Sendable {
    /// Share of successful samples of a probe in a window must be at least `min`.
    case availability(probe: String, min: Double, window: AvailabilityWindow)
    /// From a fault's injection to the first success of a streak that lasts.
    case recoveryTime(probe: String, max: Nanos, fault: String, streak: Int)
    /// Longest run of failed samples.
    case errorWindow(probe: String, max: Nanos)
    /// Acknowledged writes absent from the final state, at most `max`.
    case lostWrites(max: Int)
    /// Every replica holds the same workload data after the heal.
    case converged(Bool)

    public var name: String {
        switch self {
        case .availability(let p, _, let w): return "availability(\(p), \(w.rawValue))"
        case .recoveryTime(let p, _, let f, _): return "recovery_time(\(p), after \(f))"
        case .errorWindow(let p, _): return "error_window(\(p))"
        case .lostWrites: return "lost_writes"
        case .converged: return "converged"
        }
    }

    public static let keys = ["availability", "recovery_time", "error_window", "lost_writes", "converged"]
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
