/// Judges every expectation that is about the workload's history. Pure (the clock for the
/// linearizability budget is passed in).
public enum WorkloadJudge {
    public static func check(
        _ expectations: [Expectation], history h: History, faultStarts: [String: Nanos], actionStarts: [String: Nanos],
        phase: Range<Nanos>, now: () -> Nanos
    ) -> [CheckResult] {
        var out: [CheckResult] = []
        var maxLost: Int?
        var converged: Bool?
        for x in expectations {
            switch x {
            case .lostWrites(let m): maxLost = m
            case .converged(let c): converged = c
            case .loadBalancing(let l):
                out += LoadBalancingChecker.checks(
                    l, ops: h.ops, faultAt: faultStarts[l.fault], rejoinAt: l.rejoin.flatMap { actionStarts[$0] }, phase: phase)
            case .splitBrain(let allowed):
                out.append(SplitBrainChecker.checks(h.ops, allowed: allowed, origin: phase.lowerBound))
            case .staleReads(let m):
                out.append(StaleReadChecker.checks(h.ops, max: m, origin: phase.lowerBound))
            case .linearizable(let budget):
                out.append(LinearizabilityChecker.checks(h.ops, budget: budget, origin: phase.lowerBound, now: now))
            case .availability, .recoveryTime, .errorWindow, .healed:
                continue
            }
        }
        if maxLost != nil || converged != nil {
            out = WriteChecker.checks(h, maxLost: maxLost, converged: converged, origin: phase.lowerBound) + out
        }
        return out
    }
}
