/// What a load balancer must do when one backend dies: stop sending it traffic quickly, spread
/// the load evenly over the survivors, take the backend back once it returns, and keep
/// answering meanwhile. Judged from a request history whose endpoints name the backend that
/// answered (or "-" when none did). Pure.
public enum LoadBalancingChecker {
    public struct Report: Equatable, Sendable {
        /// Backends that answered before the fault, with their request counts.
        public var before: [String: Int]
        /// Requests each backend answered while the killed one was out.
        public var whileOut: [String: Int]
        /// From the fault to the end of the last request that failed or reached the killed
        /// backend; nil when no request after the fault did either.
        public var ejection: Nanos?
        /// Invocation time of the last request counted in `ejection`.
        public var lastAffected: Nanos?
        /// Fewest over most requests among the survivors while the backend was out (1 is even).
        public var evenness: Double?
        /// From the rejoin action to the first request the backend answered again.
        public var rejoin: Nanos?
        public var succeeded: Int
        public var total: Int
        /// Keys answered before the fault by a surviving backend, and those of them answered by
        /// another backend while the killed one was out.
        public var stickyKeys: Int
        public var movedKeys: [String]
    }

    /// `ops` in any order; `faultAt` the fault's injection; `rejoinAt` the start of the action
    /// that brings the backend back; `faultEnd` the end of a fault that holds for a duration.
    /// The backend is out from `faultAt` until the first of `rejoinAt`, `faultEnd` and `end`.
    public static func check(
        _ ops: [History.Op], backend: String, faultAt: Nanos, rejoinAt: Nanos?, faultEnd: Nanos? = nil, end: Nanos
    ) -> Report {
        let sorted = ops.sorted { $0.invokedAt < $1.invokedAt }
        var before: [String: Int] = [:]
        var ejectionEnd: Nanos?
        var lastAffected: Nanos?
        let outUntil = [rejoinAt, faultEnd, end].compactMap { $0 }.min() ?? end
        for op in sorted {
            if op.invokedAt < faultAt {
                if op.outcome == .ok { before[op.endpoint, default: 0] += 1 }
            } else if op.invokedAt < outUntil, op.outcome != .ok || op.endpoint == backend {
                ejectionEnd = max(ejectionEnd ?? op.completedAt, op.completedAt)
                lastAffected = op.invokedAt
            }
        }
        // Survivors are measured once the backend is out: after the last affected request.
        let from = lastAffected ?? faultAt
        var whileOut: [String: Int] = [:]
        for b in before.keys where b != backend { whileOut[b] = 0 }
        for op in sorted where op.invokedAt > from && op.invokedAt < outUntil && op.outcome == .ok && op.endpoint != backend {
            whileOut[op.endpoint, default: 0] += 1
        }
        var evenness: Double?
        if let most = whileOut.values.max(), most > 0, let fewest = whileOut.values.min() {
            evenness = Double(fewest) / Double(most)
        }
        var rejoin: Nanos?
        if let rejoinAt {
            rejoin = sorted.first { $0.invokedAt >= rejoinAt && $0.outcome == .ok && $0.endpoint == backend }.map {
                $0.completedAt - rejoinAt
            }
        }
        // Stickiness: a key's backend before the fault (its last answer), against every answer
        // it got once the killed backend was out.
        var home: [String: String] = [:]
        for op in sorted where op.invokedAt < faultAt && op.outcome == .ok && !op.key.isEmpty { home[op.key] = op.endpoint }
        var moved = Set<String>()
        var sticky = Set<String>()
        for op in sorted where op.invokedAt > from && op.invokedAt < outUntil && op.outcome == .ok && !op.key.isEmpty {
            guard let h = home[op.key], h != backend else { continue }
            sticky.insert(op.key)
            if op.endpoint != h { moved.insert(op.key) }
        }
        let inPhase = sorted.filter { $0.invokedAt < end }
        return Report(
            before: before, whileOut: whileOut, ejection: ejectionEnd.map { $0 - faultAt }, lastAffected: lastAffected,
            evenness: evenness, rejoin: rejoin, succeeded: inPhase.filter { $0.outcome == .ok }.count, total: inPhase.count,
            stickyKeys: sticky.count, movedKeys: moved.sorted())
    }

    public static func checks(
        _ x: LoadBalancingExpectation, ops: [History.Op], faultAt: Nanos?, rejoinAt: Nanos?, faultEnd: Nanos? = nil,
        phase: Range<Nanos>
    ) -> [CheckResult] {
        guard let faultAt else {
            return [
                CheckResult(
                    name: x.name, passed: false, expected: "-", measured: "fault '\(x.fault)' was not injected")
            ]
        }
        let r = check(ops, backend: x.backend, faultAt: faultAt, rejoinAt: rejoinAt, faultEnd: faultEnd, end: phase.upperBound)
        let counts = { (d: [String: Int]) in d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        var out: [CheckResult] = []
        let name = x.name
        if !r.before.keys.contains(x.backend) {
            out.append(
                CheckResult(
                    name: "\(name).served_before", passed: false, expected: "'\(x.backend)' answers before the fault",
                    measured: "it answered no request", evidence: "before the fault: \(counts(r.before))"))
        }
        if let max = x.ejectionWithin {
            let measured = r.ejection.map { DurationText.format($0) } ?? "0s"
            let evidence =
                r.lastAffected.map {
                    "last request that failed or reached \(x.backend) was sent at +\(DurationText.format($0 - phase.lowerBound))"
                } ?? "no request after the fault failed or reached \(x.backend)"
            out.append(
                CheckResult(
                    name: "\(name).ejection", passed: (r.ejection ?? 0) <= max, expected: "≤ \(DurationText.format(max))",
                    measured: measured, evidence: evidence))
        }
        if let min = x.evenness {
            out.append(
                CheckResult(
                    name: "\(name).evenness", passed: (r.evenness ?? 0) >= min, expected: "≥ \(PercentText.format(min))",
                    measured: r.evenness.map { PercentText.format($0) } ?? "no survivor answered",
                    evidence: "survivors while \(x.backend) was out: \(counts(r.whileOut)) (fewest / most)"))
        }
        if let max = x.rejoinWithin {
            let measured: String
            if rejoinAt == nil {
                measured = "action '\(x.rejoin ?? "")' did not run"
            } else {
                measured = r.rejoin.map { DurationText.format($0) } ?? "not back"
            }
            out.append(
                CheckResult(
                    name: "\(name).rejoin", passed: r.rejoin.map { $0 <= max } ?? false, expected: "≤ \(DurationText.format(max))",
                    measured: measured, evidence: "first request \(x.backend) answered after '\(x.rejoin ?? "")' started"))
        }
        if let maxMoved = x.maxMoved {
            let share = r.stickyKeys == 0 ? 1 : Double(r.movedKeys.count) / Double(r.stickyKeys)
            let examples = r.movedKeys.prefix(5).joined(separator: ", ")
            out.append(
                CheckResult(
                    name: "\(name).sticky", passed: r.stickyKeys > 0 && share <= maxMoved,
                    expected: "≤ \(PercentText.format(maxMoved)) moved",
                    measured: r.stickyKeys == 0 ? "no key seen on a survivor before and after" : PercentText.format(share),
                    evidence:
                        "\(r.movedKeys.count) of \(r.stickyKeys) keys that survivors served before the fault changed backend while \(x.backend) was out"
                        + (examples.isEmpty ? "" : " (\(examples))")))
        }
        if let min = x.availability {
            let share = r.total == 0 ? 0 : Double(r.succeeded) / Double(r.total)
            out.append(
                CheckResult(
                    name: "\(name).availability", passed: r.total > 0 && share >= min, expected: "≥ \(PercentText.format(min))",
                    measured: PercentText.format(share), evidence: "\(r.succeeded) of \(r.total) requests answered with 2xx"))
        }
        return out
    }
}
