import Yams

/// `load_balancing`: a load balancer ejects the backend a fault takes out, spreads the load
/// over the rest, and takes it back; judged on an http workload that names the backend.
public struct LoadBalancingExpectation: ExpectationKindReader, Equatable {
    public static let key = "load_balancing"
    public static let summary = "ejection, evenness, rejoin, availability, sticky keys (http workload with backend_header)"

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

    public var name: String { "\(Self.key)(\(backend))" }

    public var description: String {
        var parts = ["\(shown: backend) taken out by \(fault)"]
        if let t = ejectionWithin { parts.append("ejected within \(DurationText.format(t))") }
        if let v = evenness { parts.append("survivors even to \(PercentText.format(v))") }
        if let a = rejoin, let t = rejoinWithin { parts.append("back within \(DurationText.format(t)) of \(a)") }
        if let v = availability { parts.append("≥ \(PercentText.format(v)) of requests answered") }
        return "load balancing: " + parts.joined(separator: ", ")
    }

    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> LoadBalancingExpectation? {
        let r = c.reader
        let keys = [
            "backend", "fault", "ejection_within", "evenness", "rejoin", "rejoin_within",
            "availability",  // check-kinds: field
            "sticky",
        ]
        guard let f = r.fields(node, path: path, allowed: keys) else { return nil }
        let backend = r.string(f, "backend", required: true)
        let fault = c.fault(f)
        if fault == nil { r.error(node, "'\(path)' needs 'fault': the fault that takes the backend out") }
        var x = LoadBalancingExpectation(backend: backend ?? "", fault: fault ?? "")
        x.ejectionWithin = r.duration(f, "ejection_within")
        x.evenness = r.percent(f, "evenness")
        x.rejoin = c.action(f, "rejoin")
        x.rejoinWithin = r.duration(f, "rejoin_within")
        x.availability = r.percent(f, "availability")  // check-kinds: field
        let http: HTTPWorkload?
        if case .http(let h)? = c.experiment.workload?.client { http = h } else { http = nil }
        if let s = f.values["sticky"] {
            guard case .mapping = s, let sf = r.fields(s, path: f.child("sticky"), allowed: ["max_moved"]) else {
                r.error(s, "'\(f.child("sticky"))' must be a mapping like {max_moved: 0%}")
                return nil
            }
            x.maxMoved = r.percent(sf, "max_moved", required: true)
            if let http, http.keys == nil {
                r.error(s, "'\(f.child("sticky"))' needs 'workload.http.keys' so requests carry keys ({key} in the URL)")
            }
        }
        if (x.rejoin == nil) != (x.rejoinWithin == nil) {
            r.error(node, "'\(path)' takes 'rejoin' (an action's name) and 'rejoin_within' together")
        }
        if http?.backendHeader == nil {
            r.error(node, "'\(path)' needs an http 'workload' with 'backend_header' naming the backend that answered")
        }
        guard backend != nil, fault != nil else { return nil }
        return x
    }

    public func check(_ run: RunEvidence) -> [CheckResult] {
        guard let h = run.history else { return [] }
        return LoadBalancingChecker.checks(
            self, ops: h.ops, faultAt: run.faultStarts[fault], rejoinAt: rejoin.flatMap { run.actionStarts[$0] },
            faultEnd: run.faultEnds[fault], phase: run.phase)
    }
}
