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
    /// A load balancer ejects a killed backend, spreads load over the rest, takes it back.
    case loadBalancing(LoadBalancingExpectation)
    /// No two endpoints acknowledge writes as primaries at the same time (`false`: none).
    case splitBrain(allowed: Bool)
    /// Reads that return a value some completed later write had already replaced, at most `max`.
    case staleReads(max: Int)
    /// Every key's register history is linearizable; the search gets `budget` of time.
    case linearizable(budget: Nanos)
    /// A process a kill fault took is replaced (a new process matching the same selector)
    /// within `within` of the kill.
    case healed(fault: String, within: Nanos)

    public var name: String {
        switch self {
        case .availability(let p, _, let w): return "availability(\(p), \(w.rawValue))"
        case .recoveryTime(let p, _, let f, _): return "recovery_time(\(p), after \(f))"
        case .errorWindow(let p, _): return "error_window(\(p))"
        case .lostWrites: return "lost_writes"
        case .converged: return "converged"
        case .loadBalancing(let l): return "load_balancing(\(l.backend))"
        case .splitBrain: return "split_brain"
        case .staleReads: return "stale_reads"
        case .linearizable: return "linearizable"
        case .healed(let f, _): return "healed(\(f))"
        }
    }

    /// Whether the workload's history (rather than a probe) is what it is judged on.
    public var judgesWorkload: Bool {
        switch self {
        case .availability, .recoveryTime, .errorWindow, .healed: return false
        default: return true
        }
    }

    public static let keys = [
        "availability", "recovery_time", "error_window", "lost_writes", "converged", "load_balancing", "split_brain", "stale_reads",
        "linearizable", "healed",
    ]
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

/// `load_balancing:` — which backend the fault takes out, and what must hold meanwhile.
public struct LoadBalancingExpectation: Codable, Equatable, Sendable {
    /// The backend's name as the workload's `backend_header` reports it.
    public var backend: String
    public var fault: String
    public var ejectionWithin: Nanos?
    /// Fewest over most requests among the survivors, at least this.
    public var evenness: Double?
    /// The action that brings the backend back, and how soon it must answer again.
    public var rejoin: String?
    public var rejoinWithin: Nanos?
    /// Share of requests answered with 2xx over the fault phase.
    public var availability: Double?
    /// Keys the killed backend did not serve keep their backend while it is out (consistent
    /// hashing): at most this share of them may move.
    public var maxMoved: Double?

    public init(
        backend: String, fault: String, ejectionWithin: Nanos? = nil, evenness: Double? = nil, rejoin: String? = nil,
        rejoinWithin: Nanos? = nil, availability: Double? = nil, maxMoved: Double? = nil
    ) {
        self.backend = backend
        self.fault = fault
        self.ejectionWithin = ejectionWithin
        self.evenness = evenness
        self.rejoin = rejoin
        self.rejoinWithin = rejoinWithin
        self.availability = availability
        self.maxMoved = maxMoved
    }
}
