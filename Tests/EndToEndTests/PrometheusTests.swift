import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// A stop condition on a PromQL query against a real Prometheus (Debian's), scraping a metric
/// the test controls: the brake trips when the metric crosses its bound during a pause.
@Suite("the brake on a PromQL query", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "needs prometheus"))
struct PrometheusTests {
    @Test("the query's value goes above the bound while a pause holds: stopped, the pause reverted, the value that tripped it named")
    func stopOnQuery() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "demo_errors 0\n".write(toFile: "\(dir)/metrics", atomically: true, encoding: .utf8)
        let exporterPort = freePort()
        let exporter = try Spawned(["python3", "-m", "http.server", "\(exporterPort)", "--bind", "127.0.0.1", "--directory", dir])
        defer {
            kill(exporter.pid, SIGKILL)
            exporter.wait()
        }
        let port = freePort()
        try """
        global: {scrape_interval: 200ms, scrape_timeout: 200ms}
        scrape_configs:
          - job_name: demo
            static_configs: [{targets: ["127.0.0.1:\(exporterPort)"]}]
        """.write(toFile: "\(dir)/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try Spawned(
            [
                "prometheus", "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                "--web.listen-address=127.0.0.1:\(port)",
            ], in: dir, stdout: "\(dir)/prometheus.log", stderr: "\(dir)/prometheus.log")
        defer {
            kill(prometheus.pid, SIGTERM)
            prometheus.wait()
        }
        // Ready once a query sees the scraped metric.
        try waitUntil(30) {
            let r = Spawner.run(
                .argv(["curl", "-s", "-m", "1", "http://127.0.0.1:\(port)/api/v1/query?query=demo_errors"]), timeout: 2_000_000_000)
            return r.output.contains(#""value":["#)
        }
        let victim = try Child(["sleep", "66"])
        defer { victim.stop() }
        try """
        version: 1
        title: stop when Prometheus says so
        duration: 30s
        probes:
          - {name: errors, interval: 100ms, prometheus: {url: "http://127.0.0.1:\(port)", query: demo_errors}}
        faults:
          - {name: freeze, at: 200ms, duration: 25s, pause: {process: {pid: \(victim.pid)}}}
        stop_when:
          value: {probe: errors, above: 0.5}
        """.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let runner = try FaultlineBinary.start(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        defer { runner.stop() }
        try waitUntil(10) { processState(victim.pid) == "T" }
        usleep(500_000)
        #expect(processState(victim.pid) == "T", "not stopped while the metric is 0")
        try "demo_errors 3\n".write(toFile: "\(dir)/metrics", atomically: true, encoding: .utf8)
        let out = FaultlineBinary.collect(runner, in: dir)
        #expect(out.status == ExitCode.aborted, "\(out.stdout)\(out.stderr)")
        #expect(processState(victim.pid) != "T")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        let stop = try #require(j.stop, "\(out.stdout)")
        #expect(stop.condition == "value of errors above 0.5" && stop.measured == "it recorded 3, above 0.5", "\(stop)")
        let probe = try #require(j.probes.first)
        #expect(probe.values?.compactMap { $0 }.contains(0) == true, "the probe read the metric before it changed: \(probe.values ?? [])")
        #expect(stop.reactionNs.map { $0 < 500_000_000 } == true, "\(stop)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
