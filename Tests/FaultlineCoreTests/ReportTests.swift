import FaultlineTestSupport
import Foundation
import Testing

@testable import FaultlineCore

@Suite("report writers")
struct ReportTests {
    /// A journal with every section filled, fixed to the nanosecond.
    static func sample() -> Journal {
        var e = Experiment(title: "web <heals> & \"recovers\"", description: "kill it", tags: ["web"], duration: 10_000 * ms)
        e.source = "experiments/web.yaml"
        var j = Journal(runId: "20261127-000000-abcd", experiment: ExperimentSummary(e), startedAt: "2026-11-27T00:00:00.000Z")
        j.verdict = .failed
        j.exitCode = 1
        j.finishedAt = "2026-11-27T00:00:10.500Z"
        j.durationNs = 10_500 * ms
        j.events = [
            TimelineEvent(at: 2 * ms, what: "run started"),
            TimelineEvent(at: 2_001 * ms, what: "inject kill-web", detail: "SIGKILL to 42 (python3)"),
        ]
        var f = FaultRecord(name: "kill-web", kind: "kill", host: "local", target: "tcp port 8080", scheduledAt: 2_000 * ms)
        f.injectedAt = 2_001 * ms
        f.confirmed = true
        f.confirmedAt = 2_003 * ms
        f.detail = "SIGKILL to 42 (python3)"
        j.faults = [f]
        j.checks = [
            CheckResult(name: "steady_state.before(web)", passed: true, expected: "GET / → 200", measured: "ok in 1ms"),
            CheckResult(
                name: "recovery_time(web, after kill-web)", passed: false, expected: "≤ 1s", measured: "2.5s",
                evidence: "first of 3 successes in a row", value: .seconds(2_500 * ms, lower: 2_400 * ms, upper: 2_500 * ms),
                bound: .seconds(1_000 * ms)),
        ]
        j.probes = [series("..xx..", name: "web")]
        var a = ActionRecord(name: "noop", command: "true", scheduledAt: 1_000 * ms)
        a.startedAt = 1_001 * ms
        a.exitStatus = 0
        a.ok = true
        j.actions = [a]
        return j
    }

    func golden(_ name: String, _ rendered: String) throws {
        let path = Fixtures.path("golden/\(name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden/\(name)")
            try rendered.write(to: source, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(rendered == expected)
    }

    @Test("metrics.prom matches its golden file, and promtool reads it with no complaint")
    func metrics() throws {
        var j = Self.sample()
        j.checks.append(CheckResult(name: "recovery_time(web, after kill-web)", passed: true, expected: "≤ 9s", measured: "2.5s"))
        j.workload = nil
        let text = MetricsWriter.render(j)
        try golden("metrics.prom", text)
        // The sample's second check of the same name is a series of its own, numbered.
        #expect(text.contains("check=\"recovery_time(web, after kill-web)#2\"} 1"))
        #expect(
            text.contains(
                "faultline_fault_lateness_seconds{experiment=\"web <heals> & \\\"recovers\\\"\",run=\"20261127-000000-abcd\",fault=\"kill-web\",host=\"local\",kind=\"kill\"} 0.001\n"
            ))
        #expect(try promtoolComplaint(text) == nil)
    }

    @Test(
        "metrics.prom: a hostile title or check name stays one label value; seconds exact to the nanosecond; shares never rounded to 0 or 1"
    )
    func metricsHostile() throws {
        var j = Self.sample()
        j.experiment.title = "a\"b\\c\nd\u{1B}[31m} 1\nfaultline_run_verdict{verdict=\"passed\"} 1"
        j.checks = [CheckResult(name: "x\"} 0\n", passed: true, expected: "", measured: "")]
        j.durationNs = 1_000_000_001
        var p = ProbeSeries(probe: "web", kind: "http", interval: ms)
        for i in 0..<1_000 { p.append(scheduled: Nanos(i), started: Nanos(i), latency: 1, ok: i != 7, reason: i == 7 ? "x" : nil) }
        j.probes = [p]
        let text = MetricsWriter.render(j)
        // Every line is a comment or one sample: the forged newline did not make a line.
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(
            samples.allSatisfy {
                $0.hasPrefix("faultline_") && $0.contains("{experiment=\"a\\\"b\\\\c\\nd\\\\u{1b}[31m} 1\\nfaultline_run_verdict")
            })
        #expect(text.contains("faultline_run_duration_seconds{") && text.contains("} 1.000000001\n"))
        #expect(text.contains("faultline_probe_availability_ratio{") && text.contains("probe=\"web\"} 0.999\n"))
        #expect(
            MetricsWriter.ratio(1_999_999, 2_000_000) == "0.999999" && MetricsWriter.ratio(1, 5_000_000) == "0.000001"
                && MetricsWriter.ratio(1, 4) == "0.25" && MetricsWriter.ratio(3, 3) == "1")
        #expect(MetricsWriter.seconds(-250_000_000) == "-0.25" && MetricsWriter.seconds(0) == "0")
        #expect(try promtoolComplaint(text) == nil)
    }

    @Test("annotations.json: each fault's window as a Grafana annotation in epoch milliseconds, from started_at and the journal's offsets")
    func annotations() throws {
        // Epoch milliseconds of UTC instants (the expected figures from Python's calendar.timegm).
        #expect(AnnotationsWriter.epochMilliseconds("2026-11-27T00:00:00.000Z") == 1_795_737_600_000)
        #expect(AnnotationsWriter.epochMilliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(AnnotationsWriter.epochMilliseconds("2000-02-29T23:59:59.9Z") == 951_868_799_900)
        #expect(AnnotationsWriter.epochMilliseconds("2026-12-07T17:30:01.12345Z") == 1_796_664_601_123)
        for bad in ["", "2026-11-27", "2026-11-27T00:00:00", "2026-13-27T00:00:00Z", "2026-11-27T00:00:00.Z", "2026-11-27T00:00:00.1xZ"] {
            #expect(AnnotationsWriter.epochMilliseconds(bad) == nil, "\(bad)")
        }
        var j = Self.sample()
        j.faults[0].revertedAt = 4_001 * ms + 600_000
        j.stop = StopRecord(condition: "availability of web below 80% over 2s", measured: "50%", at: 3_000 * ms)
        let a = AnnotationsWriter.annotations(j)
        #expect(a.count == 2)
        #expect(a[0].time == 1_795_737_600_000 + 2_001 && a[0].timeEnd == 1_795_737_600_000 + 4_002)
        #expect(a[0].tags == ["faultline", "kill", "host:local", "run:20261127-000000-abcd"])
        #expect(a[0].text == "kill-web (kill) on local: tcp port 8080; injected 0.001 s after its instant", "\(a[0].text)")
        #expect(a[1].time == 1_795_737_600_000 + 3_000 && a[1].timeEnd == nil && a[1].tags.contains("stop"))
        let text = String(decoding: try AnnotationsWriter.render(j), as: UTF8.self)
        #expect(text.contains("\"timeEnd\" : 1795737604002"), "\(text)")
        j.startedAt = "yesterday"
        #expect(AnnotationsWriter.annotations(j).isEmpty)
    }

    @Test("markdown report matches its golden file")
    func markdown() throws {
        try golden("report.md", MarkdownWriter.render(Self.sample()))
    }

    @Test("junit matches its golden file, with the measured value in the failure")
    func junit() throws {
        let xml = JUnitWriter.render(Self.sample())
        try golden("junit.xml", xml)
        #expect(xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""))
        #expect(xml.contains("expected ≤ 1s, measured 2.5s"))
        #expect(xml.contains("web &lt;heals&gt; &amp; &quot;recovers&quot;"))
    }

    @Test("an aborted run adds an erroring 'run' testcase")
    func junitAborted() {
        var j = Self.sample()
        j.verdict = .aborted
        j.reasons = ["interrupted by SIGINT; every fault was reverted"]
        let xml = JUnitWriter.render(j)
        #expect(xml.contains("name=\"run\""))
        #expect(xml.contains("<error message=\"verdict aborted\" type=\"aborted\">interrupted by SIGINT"))
        #expect(xml.contains("errors=\"1\""))
    }

    @Test(
        "junit.xml holds to Jenkins' JUnit schema (xunit's junit-10.xsd): passed, failed, aborted with residue, none at all; a broken one does not"
    )
    func junitSchema() throws {
        var aborted = Self.sample()
        aborted.verdict = .aborted
        aborted.reasons = ["interrupted by SIGINT; every fault was reverted"]
        aborted.residue = ["nft table faultline-x still there"]
        var passed = Self.sample()
        passed.verdict = .passed
        passed.checks = passed.checks.map {
            var c = $0
            c.passed = true
            return c
        }
        var empty = Self.sample()
        empty.checks = []
        empty.verdict = .passed
        for j in [Self.sample(), aborted, passed, empty] {
            let xml = JUnitWriter.render(j)
            #expect(try junitSchemaComplaint(xml) == nil, "\(xml)")
        }
        // The schema can say no: a testcase without its name.
        let broken = JUnitWriter.render(Self.sample()).replacingOccurrences(of: " name=\"recovery_time", with: " label=\"recovery_time")
        #expect(try junitSchemaComplaint(broken)?.contains("'name' is required") == true)
    }

    @Test("journal round-trips through JSON with the documented keys")
    func journalRoundTrip() throws {
        let j = Self.sample()
        let data = try j.encoded()
        #expect(try Journal.decode(data) == j)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        for key in ["verdict", "experiment", "started_at", "faults", "checks", "residue"] { #expect(object[key] != nil, "missing \(key)") }
        let fault = (object["faults"] as? [[String: Any]])?.first ?? [:]
        for key in ["kind", "host", "injected_at", "confirmed"] { #expect(fault[key] != nil, "fault missing \(key)") }
        let check = (object["checks"] as? [[String: Any]])?.first ?? [:]
        for key in ["name", "passed", "expected", "measured"] { #expect(check[key] != nil, "check missing \(key)") }
    }

    @Test("the plan lists steps in time order with reverts first at one instant")
    func planOrder() throws {
        let e = try ExperimentLoader.load(path: Fixtures.path("valid/web.yaml"))
        let plan = Plan(e)
        #expect(plan.steps.map(\.at) == [1_000 * ms, 2_000 * ms, 3_000 * ms, 5_000 * ms])
        let text = plan.render()
        #expect(text.contains("+2s\tkill tcp port 8080 on web1 with SIGKILL [kill-web]"))
        #expect(text.contains("+5s\tcontinue (SIGCONT) what 'freeze-db' paused"))
    }
}
