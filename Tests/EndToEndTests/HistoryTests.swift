import FaultlineCore
import FaultlineTestSupport
import Foundation
import Testing

/// `faultline history` over real runs: ten runs of one experiment against a real web server,
/// the tenth with a regression planted (its freeze held four times as long).
@Suite("faultline history")
struct HistoryTests {
    @Test("ten runs, one planted regression: named, the exit code says it, the page lists every run")
    func plantedRegression() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = freePort()
        let server = try Spawned.httpServer(port: port)
        defer { server.stop() }
        for i in 1...10 {
            // The regression: the tenth run's server stays frozen 800 ms instead of 200 ms.
            let e = """
                version: 1
                title: a frozen web server serves again
                duration: 1500ms
                probes: [{name: web, interval: 10ms, http: {url: "http://127.0.0.1:\(port)/", timeout: 100ms}}]
                faults: [{name: freeze, at: 300ms, duration: \(i == 10 ? 800 : 200)ms, pause: {process: {port: \(port)}}}]
                expect: {recovery_time: {probe: web, fault: freeze, max: 3s}}
                """
            try e.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
            let run = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "st", "--out", "reports", "--quiet"], in: dir)
            #expect(run.status == 0, "run \(i): \(run.stdout)\(run.stderr)")
        }
        // A folder that is not a run's, and a journal that is not one, are named, not dropped.
        try FileManager.default.createDirectory(atPath: "\(dir)/reports/broken", withIntermediateDirectories: true)
        try "{\"schema\": 7}".write(toFile: "\(dir)/reports/broken/journal.json", atomically: true, encoding: .utf8)
        let h = try FaultlineBinary.run(["history", "reports"], in: dir)
        #expect(h.status == ExitCode.failed, "\(h.stdout)\(h.stderr)")
        let regressions = h.stdout.split(separator: "\n").filter { $0.contains("REGRESSION") }
        #expect(regressions.count == 1, "\(h.stdout)")
        #expect(regressions.first?.contains("recovery_time(web, after freeze) beyond the previous runs' range") == true, "\(h.stdout)")
        #expect(h.stdout.contains("a frozen web server serves again (e.yaml): 10 runs"), "\(h.stdout)")
        #expect(
            h.stderr.contains("reports/broken/journal.json: not a faultline journal: ") && h.stderr.contains("; left out\n"),
            "\(h.stderr)")
        let page = try String(contentsOfFile: "\(dir)/reports/history.html", encoding: .utf8)
        #expect(page.components(separatedBy: "<tr><td>").count == 11 && page.contains("1 regression</b>"), "\(page)")
        // Without the tenth run, the nine before it are steady: no regression, exit 0.
        let runs = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/reports").filter { $0.hasPrefix("20") }.sorted()
        try FileManager.default.removeItem(atPath: "\(dir)/reports/\(runs.last!)")
        try FileManager.default.removeItem(atPath: "\(dir)/reports/broken")
        let steady = try FaultlineBinary.run(["history", "reports", "--html", "h.html"], in: dir)
        #expect(steady.status == 0 && !steady.stdout.contains("REGRESSION"), "\(steady.stdout)\(steady.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/h.html"))
        let empty = try FaultlineBinary.run(["history", "st"], in: dir)
        #expect(empty.status == ExitCode.badInput && empty.stderr.contains("no journal.json"), "\(empty.stderr)")
    }
}
