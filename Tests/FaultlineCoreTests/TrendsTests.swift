import Testing

@testable import FaultlineCore

/// Trends on hand-made journals: what the newest run changed.
@Suite("trends across runs")
struct TrendsTests {
    func journal(_ n: Int, _ checks: [CheckResult]) -> Journal {
        var j = Journal(
            runId: "run-\(n)", experiment: ExperimentSummary(Experiment(title: "t", duration: 1_000_000_000)),
            startedAt: "2026-12-07T10:00:\(n < 10 ? "0" : "")\(n).000Z")
        j.checks = checks
        j.verdict = checks.allSatisfy(\.passed) ? .passed : .failed
        return j
    }

    func rto(_ s: Double, passed: Bool = true) -> CheckResult {
        CheckResult(
            name: "recovery_time(p, after k)", passed: passed, expected: "≤ 5s", measured: "\(s)s",
            value: Quantity(value: s, unit: "s", lower: s - 0.01, upper: s))
    }

    @Test("a figure beyond the earlier runs' range by more than its bracket, a newly failing check; resolved, new and gone are changes")
    func changes() {
        let steady = (1...9).map {
            journal($0, [rto(2.0 + Double($0 % 3) * 0.02), CheckResult(name: "lost_writes", passed: true, expected: "0", measured: "0")])
        }
        #expect(Trends(steady).regressions.isEmpty)
        // Within the range's slack (its brackets' 10 ms): not a regression.
        #expect(Trends((steady + [journal(10, [rto(2.045)])])).series[0].changes.map(\.kind) == [.gone])
        let worse = journal(
            10,
            [
                rto(2.5), CheckResult(name: "lost_writes", passed: false, expected: "0", measured: "3"),
                CheckResult(name: "x", passed: true, expected: "-", measured: "1"),
            ])
        let t = Trends((steady + [worse]))
        #expect(t.series[0].changes.map(\.kind) == [.beyondRange, .newlyFails, .new], "\(t.series[0].changes)")
        #expect(t.regressions.map(\.check) == ["recovery_time(p, after k)", "lost_writes"])
        #expect(
            t.text().contains(
                "REGRESSION: recovery_time(p, after k) beyond the previous runs' range: 2.5s against 2s – 2.04s over the 9 runs before"),
            "\(t.text())")
        let fixed = journal(11, [rto(2.0), CheckResult(name: "lost_writes", passed: true, expected: "0", measured: "0")])
        #expect(Trends((steady + [worse, fixed])).series[0].changes.map(\.kind) == [.resolved, .gone])
        // Runs are ordered by their start, whatever order the folder listed them in.
        #expect(Trends((steady + [worse]).reversed()).series[0].runs.last?.runId == "run-10")
    }
}
