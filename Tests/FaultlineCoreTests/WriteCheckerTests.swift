import Testing

@testable import FaultlineCore

@Suite("write checker on hand-made histories")
struct WriteCheckerTests {
    func op(_ v: String, _ outcome: History.Outcome, at t: Int64, by endpoint: String = "p1", client: Int = 0) -> History.Op {
        History.Op(client: client, value: v, invokedAt: t * ms - ms, completedAt: t * ms, outcome: outcome, endpoint: endpoint)
    }

    func history(_ writes: [History.Op], primary: String = "p2", reads: [String: [String]]) -> History {
        var h = History()
        h.ops = writes
        h.finalPrimary = primary
        h.finalReads = reads
        return h
    }

    @Test("acknowledged and present is kept; acknowledged and absent is lost")
    func lost() {
        let h = history([op("a", .ok, at: 1), op("b", .ok, at: 2)], reads: ["p2": ["a"], "p3": ["a"]])
        let r = WriteChecker.check(h)
        #expect(r.lost.map(\.value) == ["b"])
        #expect(r.acknowledged == 2 && r.divergent.isEmpty)
    }

    @Test("an unknown outcome is never counted as lost, present or not")
    func unknownNotLost() {
        let h = history([op("a", .unknown, at: 1), op("b", .unknown, at: 2)], reads: ["p2": ["a"]])
        let r = WriteChecker.check(h)
        #expect(r.lost.isEmpty)
        #expect(r.unknown == 2 && r.unknownApplied == 1)
    }

    @Test("a failed write is neither acknowledged nor lost")
    func failedNotLost() {
        let r = WriteChecker.check(history([op("a", .fail, at: 1)], reads: ["p2": []]))
        #expect(r.lost.isEmpty && r.failed == 1 && r.acknowledged == 0)
    }

    @Test("writes acked by an old primary after the failover are lost; RPO spans their acknowledgements")
    func oldPrimaryAfterFailover() {
        let writes = [
            op("c0-1", .ok, at: 100, by: "p1"), op("c1-1", .ok, at: 150, by: "p1"),  // before the cut: replicated
            // concurrent writes on the isolated primary
            op("c0-2", .ok, at: 2_000, by: "p1", client: 0), op("c1-2", .ok, at: 2_010, by: "p1", client: 1),
            op("c0-3", .ok, at: 9_000, by: "p1"),  // the old primary still acked after the new one took over
            op("c0-4", .ok, at: 10_000, by: "p2"),  // the new primary
        ]
        let h = history(writes, reads: ["p1": ["c0-1", "c1-1", "c0-4"], "p2": ["c0-1", "c1-1", "c0-4"]])
        let r = WriteChecker.check(h)
        #expect(r.lost.map(\.value) == ["c0-2", "c1-2", "c0-3"])
        #expect(r.lost.allSatisfy { $0.endpoint == "p1" })
        #expect(r.rpo == 7_000 * ms)
    }

    @Test("convergence: a replica missing values or holding extra ones diverges")
    func convergence() {
        let h = history([op("a", .ok, at: 1), op("b", .ok, at: 2)], reads: ["p2": ["a", "b"], "p1": ["a", "b", "x"], "p3": ["a"]])
        #expect(WriteChecker.check(h).divergent == ["p1": "0 missing, 1 not on the primary", "p3": "1 missing, 0 not on the primary"])
        let dup = history([op("a", .ok, at: 1)], reads: ["p2": ["a"], "p3": ["a", "a"]])
        #expect(WriteChecker.check(dup).divergent == ["p3": "0 missing, 0 not on the primary, 1 duplicated"])
        let checks = judge(h, [LostWritesExpectation(max: 0), ConvergedExpectation(true)])
        #expect(checks.map(\.passed) == [true, false])
    }

    @Test("no final read of a primary: lost writes are unknown, and the check fails rather than passes")
    func noFinalRead() {
        var h = history([op("a", .ok, at: 1)], reads: [:])
        h.finalPrimary = nil
        let c = judge(h, [LostWritesExpectation(max: 0)])
        #expect(c.first?.passed == false && c.first?.measured == "unknown (no final read)")
    }

    @Test("evidence names the first lost values with who acknowledged them and when")
    func evidence() {
        let h = history([op("v1", .ok, at: 2_500, by: "198.18.1.11:6379")], reads: ["p2": []])
        let c = judge(h, [LostWritesExpectation(max: 0)], origin: 500 * ms)
        #expect(c.first?.measured == "1")
        #expect(c.first?.evidence?.contains("'v1' acked by 198.18.1.11:6379 at +2s") == true, "\(c.first?.evidence ?? "")")
    }

    /// The write expectations judged as a run judges them, the fault phase starting at `origin`.
    func judge(_ h: History, _ kinds: [any ExpectationKind], origin: Nanos = 0) -> [CheckResult] {
        ExpectationChecker.check(kinds.map(Expectation.init), RunEvidence(phase: origin..<(origin + 10_000 * ms), history: h))
    }
}
