import Testing

@testable import FaultlineCore

/// An operation from `from` to `to` milliseconds.
private func w(_ key: String, _ v: String, _ from: Int64, _ to: Int64, _ o: History.Outcome = .ok, by e: String = "p1") -> History.Op {
    History.Op(client: 0, kind: .write, key: key, value: v, invokedAt: from * ms, completedAt: to * ms, outcome: o, endpoint: e)
}

private func r(_ key: String, _ v: String, _ from: Int64, _ to: Int64, _ o: History.Outcome = .ok) -> History.Op {
    History.Op(client: 1, kind: .read, key: key, value: v, invokedAt: from * ms, completedAt: to * ms, outcome: o, endpoint: "p1")
}

private func lin(_ ops: [History.Op], budget: Int64 = 5_000 * ms) -> LinearizabilityChecker.Verdict {
    var clock: Int64 = 0
    return LinearizabilityChecker.check(
        ops, budget: budget,
        now: {
            clock += 1
            return clock
        }
    ).verdict
}

@Suite("linearizability checker on hand-made register histories")
struct LinearizabilityTests {
    @Test("sequential writes and reads of the latest value are linearizable")
    func sequential() {
        #expect(lin([w("k", "a", 0, 1), r("k", "a", 2, 3), w("k", "b", 4, 5), r("k", "b", 6, 7)]) == .linearizable)
    }

    @Test("a read of a value already overwritten is not; the verdict names the read")
    func staleRead() {
        let v = lin([w("k", "a", 0, 1), w("k", "b", 2, 3), r("k", "a", 4, 5)])
        guard case .notLinearizable(let key, _, let op) = v else {
            Issue.record("expected not linearizable, got \(v)")
            return
        }
        #expect(key == "k" && op.kind == .read && op.value == "a")
    }

    @Test("concurrent writes: a read may see either, two reads must agree on the order")
    func concurrentWrites() {
        let both = [w("k", "a", 0, 10), w("k", "b", 0, 10)]
        #expect(lin(both + [r("k", "a", 11, 12)]) == .linearizable)
        #expect(lin(both + [r("k", "b", 11, 12)]) == .linearizable)
        // a then b then a again is impossible once both writes completed
        #expect(lin(both + [r("k", "b", 11, 12), r("k", "a", 13, 14)]) != .linearizable)
    }

    @Test("a write with unknown outcome may take effect late, or never")
    func unknownWrite() {
        #expect(lin([w("k", "a", 0, 1), w("k", "b", 2, 3, .unknown), r("k", "a", 4, 5)]) == .linearizable)
        #expect(lin([w("k", "a", 0, 1), w("k", "b", 2, 3, .unknown), r("k", "a", 4, 5), r("k", "b", 6, 7)]) == .linearizable)
        // A failed write never takes effect.
        #expect(lin([w("k", "a", 0, 1), w("k", "b", 2, 3, .fail), r("k", "b", 4, 5)]) != .linearizable)
    }

    @Test("a write acked by an old primary after the failover, then not visible: not linearizable")
    func oldPrimaryAck() {
        let ops = [w("k", "a", 0, 1, by: "p1"), w("k", "b", 10, 11, by: "p2"), w("k", "c", 12, 13, by: "p1"), r("k", "b", 14, 15)]
        #expect(lin(ops) != .linearizable)
    }

    @Test("keys are independent: each is checked on its own")
    func perKey() {
        #expect(lin([w("x", "a", 0, 1), w("y", "b", 2, 3), r("x", "a", 4, 5), r("y", "b", 4, 5)]) == .linearizable)
        #expect(lin([w("x", "a", 0, 1), r("y", "a", 2, 3)]) != .linearizable)
    }

    @Test("unknown writes nobody read are left out: the verdict stands and the search stays small")
    func unseenUnknownWrites() {
        // 40 concurrent unknown writes nobody read, beside a history that is not linearizable
        // (a read of a value after a later write replaced it): still caught, within no budget.
        var ops = [w("k", "a", 0, 1), w("k", "b", 2, 3), r("k", "a", 4, 5)]
        for i in 0..<40 { ops.append(w("k", "u\(i)", 0, 100, .unknown)) }
        guard case .notLinearizable = lin(ops, budget: 1_000_000_000) else {
            Issue.record("expected not linearizable")
            return
        }
        // An unknown write somebody read still counts: here it explains the read.
        #expect(lin([w("k", "a", 0, 1), w("k", "b", 2, 3, .unknown), r("k", "b", 4, 5)] + ops[3...]) == .linearizable)
    }

    @Test("over budget the verdict is unknown, never linearizable")
    func budget() {
        // 40 concurrent writes and reads that force backtracking, and a budget of zero.
        var ops: [History.Op] = []
        for i in 0..<40 { ops.append(w("k", "v\(i)", 0, 100)) }
        for i in 0..<40 { ops.append(r("k", "v\(i)", 101 + Int64(i) * 2, 102 + Int64(i) * 2)) }
        guard case .unknown = lin(ops, budget: 0) else {
            Issue.record("expected unknown")
            return
        }
    }
}

@Suite("linearizability checker's memo of configurations")
struct MemoSetTests {
    typealias Key = LinearizabilityChecker.CacheKey

    @Test("every field tells keys apart, through the table's growth; keys with more words too")
    func distinctAndGrowing() {
        var seen = LinearizabilityChecker.MemoSet()
        var keys: [Key] = []
        for i in 0..<5_000 {
            let n = Int32(i)
            keys.append(Key(low: n, state: 0))
            keys.append(Key(low: 0, state: n + 1))
            keys.append(Key(low: 0, state: 0, w0: UInt64(i) + 1))
            keys.append(Key(low: 0, state: 0, w0: 0, w1: UInt64(i) + 1))
            keys.append(Key(low: 0, state: 0, w0: 1, w1: 1, rest: [UInt64(i) + 1]))
        }
        var fresh = 0
        for k in keys where seen.insert(k) { fresh += 1 }
        #expect(fresh == keys.count)
        #expect(seen.count == keys.count)
        var again = 0
        for k in keys where seen.insert(k) { again += 1 }
        #expect(again == 0)
        #expect(seen.count == keys.count)
    }

    @Test("more concurrent operations than the key's inline words hold: the search still decides")
    func wideWindow() {
        // A slow write spans 150 sequential ones and takes effect after all of them, so the
        // search holds configurations where 150 operations beyond the unplaced first one are
        // linearized: a window of three words, kept outside the inline fields.
        var ops = [w("k", "a", 0, 1_000)]
        for i in 0..<150 { ops.append(w("k", "v\(i)", 10 + Int64(i) * 4, 12 + Int64(i) * 4)) }
        #expect(lin(ops + [r("k", "a", 1_001, 1_002)]) == .linearizable)
        #expect(lin(ops + [r("k", "a", 1_001, 1_002), r("k", "v3", 1_003, 1_004)]) != .linearizable)
    }
}

@Suite("stale-read checker")
struct StaleReadTests {
    @Test("a read of a value a completed later write replaced is stale")
    func stale() {
        let rep = StaleReadChecker.check([w("k", "a", 0, 1), w("k", "b", 2, 3), r("k", "a", 4, 5), r("k", "b", 6, 7)])
        #expect(rep.stale.map(\.value) == ["a"] && rep.reads == 2)
    }

    @Test("a read concurrent with the overwriting write is not stale")
    func concurrent() {
        #expect(StaleReadChecker.check([w("k", "a", 0, 1), w("k", "b", 2, 10), r("k", "a", 4, 5)]).stale.isEmpty)
    }

    @Test("unknown-outcome writes never make a read stale; reading nothing after an ack is")
    func unknownAndEmpty() {
        #expect(StaleReadChecker.check([w("k", "a", 0, 1, .unknown), r("k", "", 4, 5)]).stale.isEmpty)
        #expect(StaleReadChecker.check([w("k", "a", 0, 1), r("k", "", 4, 5)]).stale.count == 1)
    }

    @Test("a value nobody wrote is reported apart, and fails the check")
    func foreign() {
        let ops = [w("k", "a", 0, 1), r("k", "zzz", 4, 5)]
        #expect(StaleReadChecker.check(ops).foreign.count == 1)
        #expect(!StaleReadChecker.checks(ops, max: 0, origin: 0, name: "stale_reads").passed)
    }
}

@Suite("split-brain checker")
struct SplitBrainTests {
    @Test("two primaries taking turns acknowledging writes: a window from the newer's first ack")
    func interleaved() {
        var ops: [History.Op] = []
        for t in stride(from: Int64(0), to: 100, by: 10) { ops.append(w("", "p1-\(t)", t, t + 1, by: "p1")) }
        for t in stride(from: Int64(45), to: 150, by: 10) { ops.append(w("", "p2-\(t)", t, t + 1, by: "p2")) }
        let windows = SplitBrainChecker.check(ops)
        #expect(windows.count == 1)
        #expect(windows.first?.older == "p1" && windows.first?.newer == "p2")
        #expect(windows.first?.from == 46 * ms && windows.first?.to == 91 * ms)
    }

    @Test("a clean failover with a slow in-flight ack from the old primary is not a split brain")
    func cleanFailover() {
        let ops = [w("", "a", 0, 1, by: "p1"), w("", "b", 5, 40, by: "p1"), w("", "c", 30, 31, by: "p2"), w("", "d", 50, 51, by: "p2")]
        #expect(SplitBrainChecker.check(ops).isEmpty)
    }

    @Test("a double failover (p1, p2, then p1 for good) is not a split brain")
    func doubleFailover() {
        let ops = [w("", "a", 0, 1, by: "p1"), w("", "b", 10, 11, by: "p2"), w("", "c", 20, 21, by: "p1"), w("", "d", 30, 31, by: "p1")]
        #expect(SplitBrainChecker.check(ops).isEmpty)
        #expect(SplitBrainChecker.checks(ops, allowed: false, origin: 0, name: "split_brain").passed)
    }

    @Test("unknown and failed writes are not acknowledgements")
    func onlyAcks() {
        let ops = [
            w("", "a", 0, 1, by: "p1"), w("", "b", 10, 11, by: "p2"), w("", "c", 20, 21, .unknown, by: "p1"), w("", "d", 30, 31, by: "p2"),
        ]
        #expect(SplitBrainChecker.check(ops).isEmpty)
    }
}

@Suite("load-balancing checker")
struct LoadBalancingTests {
    /// Requests every 10 ms answered round robin by b1, b2, b3; b1 dies at 1000 ms, is
    /// ejected after `ejectAt` (requests routed to it fail until then), returns at `backAt`.
    func history(ejectAt: Int64, backAt: Int64?, rejoinDelay: Int64 = 300) -> [History.Op] {
        var ops: [History.Op] = []
        var rr = 0
        for i in 0..<300 {
            let t = Int64(i) * 10
            let inRotation = ["b1", "b2", "b3"].filter { $0 != "b1" || t < ejectAt || (backAt.map { t >= $0 + rejoinDelay } ?? false) }
            let b = inRotation[rr % inRotation.count]
            rr += 1
            let dead = b == "b1" && t >= 1000 && (backAt.map { t < $0 } ?? true)
            ops.append(
                History.Op(
                    client: 0, value: "\(i)", invokedAt: t * ms, completedAt: (t + 1) * ms, outcome: dead ? .fail : .ok,
                    endpoint: dead ? "-" : b))
        }
        return ops
    }

    @Test("ejection ends with the last request that failed; survivors share evenly; the backend returns")
    func ejectAndReturn() {
        let ops = history(ejectAt: 1500, backAt: 2000)
        let r = LoadBalancingChecker.check(ops, backend: "b1", faultAt: 1000 * ms, rejoinAt: 2000 * ms, end: 3000 * ms)
        #expect(r.before == ["b1": 34, "b2": 33, "b3": 33])
        #expect(r.ejection == 471 * ms, "\(String(describing: r.ejection))")
        #expect((r.evenness ?? 0) > 0.9)
        #expect(r.rejoin.map { $0 >= 300 * ms && $0 <= 330 * ms } == true, "\(String(describing: r.rejoin))")
        // b1 takes every third request; from 1000 to 1490 ms that is 16 requests, all failed.
        #expect(r.total == 300 && r.total - r.succeeded == 16)
    }

    @Test("expectations: a slow ejection and a backend that never returns fail, with evidence")
    func failing() {
        let ops = history(ejectAt: 2600, backAt: nil)
        let x = LoadBalancingExpectation(
            backend: "b1", fault: "kill", ejectionWithin: 500 * ms, evenness: 0.8, rejoin: "restart", rejoinWithin: 1_000 * ms,
            availability: 0.99)
        let checks = LoadBalancingChecker.checks(x, ops: ops, faultAt: 1000 * ms, rejoinAt: 2000 * ms, phase: 0..<(3000 * ms))
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
        #expect(byName["load_balancing(b1).ejection"]?.passed == false)
        #expect(byName["load_balancing(b1).rejoin"]?.measured == "not back")
        #expect(byName["load_balancing(b1).availability"]?.passed == false)
        #expect(byName["load_balancing(b1).ejection"]?.evidence?.contains("last request") == true)
    }

    @Test("stickiness: keys of survivors keep their backend, the dead backend's keys may move")
    func sticky() {
        // Keys k0…k5 hashed to b1, b2, b3, b1, b2, b3; b1 dies at 1000 ms and its keys move.
        func ops(moveSurvivorKey: Bool) -> [History.Op] {
            var out: [History.Op] = []
            for i in 0..<300 {
                let t = Int64(i) * 10
                let key = "k\(i % 6)"
                var b = ["b1", "b2", "b3"][i % 3]
                if t >= 1000, b == "b1" { b = i % 2 == 0 ? "b2" : "b3" }
                if moveSurvivorKey, t >= 1500, key == "k1" { b = "b3" }
                out.append(
                    History.Op(client: 0, key: key, value: "\(i)", invokedAt: t * ms, completedAt: (t + 1) * ms, outcome: .ok, endpoint: b))
            }
            return out
        }
        let good = LoadBalancingChecker.check(ops(moveSurvivorKey: false), backend: "b1", faultAt: 1000 * ms, rejoinAt: nil, end: 3000 * ms)
        #expect(good.stickyKeys == 4 && good.movedKeys.isEmpty, "\(good)")
        let bad = LoadBalancingChecker.check(ops(moveSurvivorKey: true), backend: "b1", faultAt: 1000 * ms, rejoinAt: nil, end: 3000 * ms)
        #expect(bad.movedKeys == ["k1"])
        let x = LoadBalancingExpectation(backend: "b1", fault: "kill", maxMoved: 0)
        let c = LoadBalancingChecker.checks(x, ops: ops(moveSurvivorKey: true), faultAt: 1000 * ms, rejoinAt: nil, phase: 0..<(3000 * ms))
        #expect(c.first { $0.name.hasSuffix(".sticky") }?.passed == false)
    }

    @Test("a fault that holds for a duration: the backend is out only until the fault ends")
    func outUntilFaultEnds() {
        // b1 fails from 1000 ms, is ejected at 1500 ms, and (no rejoin action) comes back in
        // rotation 300 ms after the fault's end at 2000 ms: requests it answers then are not
        // counted against the ejection.
        let ops = history(ejectAt: 1500, backAt: 2000)
        let held = LoadBalancingChecker.check(ops, backend: "b1", faultAt: 1000 * ms, rejoinAt: nil, faultEnd: 2000 * ms, end: 3000 * ms)
        #expect(held.ejection == 471 * ms, "\(String(describing: held.ejection))")
        // Without the fault's end the window runs to the phase's end and b1's return looks
        // like a backend never ejected.
        let open = LoadBalancingChecker.check(ops, backend: "b1", faultAt: 1000 * ms, rejoinAt: nil, end: 3000 * ms)
        #expect((open.ejection ?? 0) > 1900 * ms, "\(String(describing: open.ejection))")
    }

    @Test("a fault that was never injected fails the expectation instead of passing it")
    func notInjected() {
        let x = LoadBalancingExpectation(backend: "b1", fault: "kill", ejectionWithin: ms)
        let c = LoadBalancingChecker.checks(x, ops: history(ejectAt: 0, backAt: nil), faultAt: nil, rejoinAt: nil, phase: 0..<ms)
        #expect(c.count == 1 && !c[0].passed)
    }
}

@Suite("healed checker")
struct HealedTests {
    func record(confirmed: Bool = true, healedAt: Nanos?) -> FaultRecord {
        var f = FaultRecord(name: "kill-web", kind: "kill", host: "local", target: "port 18080", scheduledAt: 0)
        f.injectedAt = 1_000 * ms
        f.confirmed = confirmed
        f.confirmedAt = 1_005 * ms
        f.healedAt = healedAt
        f.healedBy = healedAt.map { _ in "4242@99" }
        return f
    }

    let x = [Expectation(HealedExpectation(fault: "kill-web", within: 2_000 * ms))]

    func healed(_ faults: [FaultRecord]) -> [CheckResult] {
        ExpectationChecker.check(x, RunEvidence(phase: 0..<(10_000 * ms), faults: faults))
    }

    @Test("measured from the kill's confirmation to the first new process")
    func healed() {
        let c = healed([record(healedAt: 2_205 * ms)])
        #expect(c.count == 1 && c[0].passed && c[0].measured == "1.2s", "\(c)")
        #expect(c[0].evidence?.contains("4242@99") == true)
    }

    @Test("too slow, never, or a kill that did not take effect: all fail")
    func failing() {
        #expect(healed([record(healedAt: 3_500 * ms)]).first?.passed == false)
        #expect(healed([record(healedAt: nil)]).first?.measured == "not healed")
        #expect(healed([record(confirmed: false, healedAt: 2_000 * ms)]).first?.passed == false)
        #expect(healed([]).first?.passed == false)
    }
}
