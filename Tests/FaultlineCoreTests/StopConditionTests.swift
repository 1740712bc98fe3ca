import Foundation
import Testing

@testable import FaultlineCore

/// A value threads may set (the monitor's callback is `@Sendable`).
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// The brake's conditions on synthetic samples, and what the file may say about them.
@Suite("stop conditions")
struct StopConditionTests {
    /// Feeds a monitor `pattern` (one character per sample: `.` ok, `x` failed), samples every
    /// `interval` ms taking `latency` ms; the brake's record, if it tripped.
    func feed(
        _ conditions: [any StopConditionKind], _ pattern: String, interval: Int64 = 50, latency: Int64 = 2, values: [Double?]? = nil
    ) -> StopRecord? {
        let box = Box<StopRecord?>(nil)
        let m = StopMonitor(conditions.map { StopCondition($0) }) { r in box.value = r }
        m.arm(at: 0)
        for (i, c) in pattern.enumerated() {
            let t = Int64(i) * interval * ms
            m.observe(
                probe: "web", kind: "http", interval: interval * ms, started: t, latency: latency * ms, ok: c == ".",
                reason: c == "." ? nil : "refused", value: values?[i])
        }
        #expect(box.value == m.record)
        return m.record
    }

    @Test("availability over a sliding window: judged once the window is full, tripped by the sample that breaks it")
    func availability() throws {
        let c = AvailabilityStop(probe: "web", below: 0.8, window: 1_000 * ms)
        // Three failures at the very start: the window is not full yet, so nothing trips.
        #expect(feed([c], "xxx.................") == nil)
        // 20 samples per second; the fifth failure in a row leaves the last second 202 ms down
        // (from the first failure's start to the newest sample's end): 79.8 % up.
        let r = try #require(feed([c], "......................xxxxx.........."))
        #expect(r.at == 26 * 50 * ms + 2 * ms, "\(r)")
        #expect(r.samples == (22...26).map { Int64($0) * 50 * ms }, "\(r.samples)")
        #expect(r.condition == "availability of web below 80% over 1s" && r.measured.hasPrefix("up 79.8% of the last 1s"), "\(r)")
        // Four failed, and the next sample up: 200 ms of the second down, 80 %, not below.
        #expect(feed([c], "......................xxxx..........") == nil)
    }

    @Test("error rate counts samples, and says nothing below min_samples")
    func errorRate() throws {
        let c = ErrorRateStop(probe: "web", above: 0.5, window: 500 * ms, minSamples: 5)
        #expect(feed([c], ".....xxxxx") == nil, "5 of 10 in the window: not above half")
        let r = try #require(feed([c], "......xxxxxxx"))
        #expect(r.measured == "6 of 10 failed in the last 500ms (60%)" && r.at == 11 * 50 * ms + 2 * ms, "\(r)")
        let sparse = ErrorRateStop(probe: "web", above: 0.5, window: 500 * ms, minSamples: 50)
        #expect(feed([sparse], "xxxxxxxxxxxxxxxx") == nil)
    }

    @Test("a latency quantile over the window, nearest rank")
    func latency() throws {
        let c = LatencyStop(probe: "web", quantile: 0.9, above: 100 * ms, window: 1_000 * ms, minSamples: 5)
        #expect(feed([c], String(repeating: ".", count: 40), latency: 99) == nil)
        let r = try #require(feed([c], String(repeating: ".", count: 40), latency: 101))
        #expect(r.condition == "p90 latency of web above 100ms over 1s" && r.measured.hasPrefix("p90 latency 101ms"), "\(r)")
    }

    @Test("failures: a streak of the newest samples, whatever the window")
    func failures() throws {
        #expect(feed([FailuresStop(probe: "web", consecutive: 3)], "..xx.xx.") == nil)
        let r = try #require(feed([FailuresStop(probe: "web", consecutive: 3)], "..xx.xxx"))
        #expect(r.at == 7 * 50 * ms + 2 * ms && r.samples.count == 3, "\(r)")
        #expect(feed([FailuresStop(probe: "web", consecutive: 1)], "x")?.condition == "web fails")
    }

    @Test("a streak names its newest failure's reason, not the first of its kind")
    func newestReason() throws {
        let m = StopMonitor([StopCondition(FailuresStop(probe: "web", consecutive: 2))]) { _ in }
        m.arm(at: 0)
        // Both reasons were seen before the streak: folded by first sight, "refused" would be last.
        let samples: [(Nanos, Bool, String?)] = [
            (0, false, "timeout"), (10, true, nil), (20, false, "refused"), (30, true, nil), (40, false, "refused"), (50, false, "timeout"),
        ]
        for (t, ok, reason) in samples {
            m.observe(probe: "web", kind: "http", interval: nil, started: t, latency: 1, ok: ok, reason: reason, value: nil)
        }
        #expect(try #require(m.record).measured == "its last 2 samples failed (latest: timeout)")
    }

    @Test("value: the newest number against its bounds; a sample without one says nothing")
    func value() throws {
        let c = ValueStop(probe: "web", above: 5, below: nil)
        #expect(feed([c], "....", values: [1, 5, nil, 4]) == nil)
        #expect(try #require(feed([c], "....", values: [1, 2, 7, 1])).measured == "it recorded 7, above 5")
    }

    @Test("the brake trips once: later breaches and halts do not replace the first")
    func once() {
        let box = Box(0)
        let m = StopMonitor([StopCondition(FailuresStop(probe: "web", consecutive: 1))]) { _ in box.value += 1 }
        m.arm(at: 0)
        m.observe(probe: "web", kind: "http", interval: nil, started: 0, latency: 1, ok: false, reason: "a", value: nil)
        m.observe(probe: "web", kind: "http", interval: nil, started: 5, latency: 1, ok: false, reason: "b", value: nil)
        #expect(m.trip(StopRecord(condition: "halt", measured: "", at: 9)) == false)
        #expect(box.value == 1 && m.record?.at == 1)
    }

    @Test("operations that finish out of order (workload clients) are kept in order of start")
    func outOfOrder() {
        let m = StopMonitor([StopCondition(FailuresStop(probe: "workload", consecutive: 2))]) { _ in }
        m.arm(at: 0)
        // Started at 0 (slow, failed), 10 (ok), 20 (failed): in start order the two failures are
        // not the newest two, so no streak.
        m.observe(probe: "workload", kind: "workload", interval: nil, started: 10, latency: 1, ok: true, reason: nil, value: nil)
        m.observe(probe: "workload", kind: "workload", interval: nil, started: 20, latency: 1, ok: false, reason: "x", value: nil)
        m.observe(probe: "workload", kind: "workload", interval: nil, started: 0, latency: 500, ok: false, reason: "x", value: nil)
        #expect(m.record == nil)
        var s = ProbeSeries(probe: "w", kind: "workload", interval: nil)
        for t: Nanos in [5, 9, 2, 7] {
            s.append(scheduled: t, started: t, latency: t, ok: true, reason: nil, value: Double(t))
            if s.count > 1, s.started[s.count - 2] > t { s.moveLastIntoPlace() }
        }
        #expect(s.started == [2, 5, 7, 9] && s.latency == [2, 5, 7, 9] && s.values == [2, 5, 7, 9])
    }

    @Test("samples before the phase is armed are not judged")
    func unarmed() {
        let m = StopMonitor([StopCondition(FailuresStop(probe: "web", consecutive: 1))]) { _ in }
        m.observe(probe: "web", kind: "http", interval: nil, started: 0, latency: 1, ok: false, reason: "a", value: nil)
        #expect(m.record == nil)
    }

    func problems(_ stop: String) -> [String] {
        let text = """
            version: 1
            title: t
            duration: 10s
            probes:
              - {name: web, interval: 100ms, http: "http://127.0.0.1:1/"}
              - {name: lag, interval: 1s, command: {argv: [echo, "1"], value: true}}
            stop_when:
            \(stop)
            """
        do {
            _ = try ExperimentLoader.load(text: text, file: "t.yaml")
            return []
        } catch let f as ValidationFailure {
            return f.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test("stop_when is read into the experiment, in the registry's order, a list or one mapping per kind")
    func reads() throws {
        let text = """
            version: 1
            title: t
            duration: 10s
            probes: [{name: web, interval: 100ms, http: "http://127.0.0.1:1/"}]
            stop_when:
              latency: {quantile: 99%, above: 500ms}
              availability: [{below: 80%, window: 2s}, {probe: web, below: 50%}]
            """
        let e = try ExperimentLoader.load(text: text, file: "t.yaml")
        #expect(
            e.stopConditions.map(\.description) == [
                "availability of web below 80% over 2s", "availability of web below 50% over 1s", "p99 latency of web above 500ms over 1s",
            ])
        #expect(Plan(e).render().contains("    - p99 latency of web above 500ms over 1s\n"))
    }

    @Test("bad stop conditions are refused with FILE:LINE:COL, the key and what is valid")
    func refused() {
        #expect(
            problems("  availabilty: {below: 80%}") == [
                "t.yaml:8:3: unknown stop condition 'availabilty' in 'stop_when' (did you mean 'availability'?)"
            ])
        #expect(problems("  availability: {probe: web}") == ["t.yaml:8:17: missing required key 'below' in 'stop_when.availability'"])
        #expect(problems("  availability: {below: 80%}") == ["t.yaml:8:17: 'stop_when.availability' needs 'probe': one of 'web', 'lag'"])
        #expect(problems("  failures: {probe: wbe}").first?.contains("unknown probe 'wbe'") == true)
        #expect(problems("  value: {probe: web, above: 3}").first?.contains("records no values") == true)
        #expect(problems("  value: {probe: lag}") == ["t.yaml:8:10: 'stop_when.value' needs 'above' or 'below' (or both)"])
        #expect(
            problems("  value: {probe: lag, above: lots}") == [
                "t.yaml:8:30: 'stop_when.value.above' must be a number (in the probe's own unit)"
            ])
        #expect(problems("  latency: {probe: web, above: 0s}").first?.contains("must be greater than 0") == true)
        #expect(problems("  error_rate: {probe: web, above: 20%, window: 2h}").first?.contains("must be at most 1h") == true)
    }
}
