import FaultlineCore
import FaultlineTestSupport
import Foundation
import Testing

@Suite("faultline validate, report, --version")
struct CLITests {
    static let root = ShippedExperiment.root
    /// Line 6, column 5: `kil`, which should be `kill`.
    static let misspelledFault = "version: 1\ntitle: t\nduration: 5s\nfaults:\n  - at: 1s\n    kil: {process: x}\n"

    @Test("every shipped experiment validates: exit 0")
    func shipped() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(Self.root)/experiments").filter { $0.hasSuffix(".yaml") }
        // Run from a scratch folder: the harness captures output to files where it runs.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try FaultlineBinary.run(["validate"] + files.map { "\(Self.root)/experiments/\($0)" }, in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.split(separator: "\n").count == files.count)
    }

    @Test("a malformed file exits 64 with FILE:LINE:COL on stderr")
    func malformed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.misspelledFault.write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let out = try FaultlineBinary.run(["validate", "bad.yaml"], in: dir)
        #expect(out.status == 64)
        #expect(out.stderr == "bad.yaml:6:5: unknown fault kind 'kil' in 'faults[0]' (did you mean 'kill'?)\n")
        let run = try FaultlineBinary.run(["run", "bad.yaml", "--state-dir", "state"], in: dir)
        #expect(run.status == 64)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/state"))
    }

    @Test("a run stopped by bad input exits only once libcurl's loading thread is done, and with 64")
    func exitAfterPreload() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.misspelledFault.write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        // `run` loads libcurl on another thread; its curl_global_init reads OpenSSL's
        // configuration, here a FIFO nobody writes yet, which holds that thread mid-way.
        // Exiting meanwhile ran OpenSSL's exit handler under it (SIGSEGV, one time in four).
        let fifo = "\(dir)/openssl.cnf"
        #expect(mkfifo(fifo, 0o600) == 0)
        let p = try Spawned(
            ["env", "OPENSSL_CONF=\(fifo)", FaultlineBinary.path, "run", "bad.yaml", "--state-dir", "state"], in: dir,
            stderr: "\(dir)/stderr")
        // Well past the ~10 ms the bad input takes to report.
        usleep(500_000)
        let waited = p.isRunning
        // Let the loading thread read an empty configuration and finish.
        let writer = open(fifo, O_WRONLY | O_NONBLOCK)
        if writer >= 0 { close(writer) }
        let status = p.wait()
        #expect(waited, "the process exited while libcurl was still being initialised on the other thread")
        #expect(status == 64)
        let err = (try? String(contentsOfFile: "\(dir)/stderr", encoding: .utf8)) ?? ""
        #expect(err.contains("bad.yaml:6:5: unknown fault kind 'kil'"))
    }

    @Test("report re-renders markdown, junit and metrics from a journal alone")
    func report() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var j = Journal(
            runId: "r", experiment: ExperimentSummary(Experiment(title: "from a journal", duration: 1)), startedAt: "2026-11-27T00:00:00Z")
        j.verdict = .passed
        j.exitCode = 0
        j.checks = [CheckResult(name: "availability(web, all)", passed: true, expected: "≥ 99%", measured: "100%")]
        try j.encoded().write(to: URL(fileURLWithPath: "\(dir)/journal.json"))
        let out = try FaultlineBinary.run(["report", "journal.json"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let md = try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8)
        #expect(md == MarkdownWriter.render(j))
        #expect(try String(contentsOfFile: "\(dir)/junit.xml", encoding: .utf8) == JUnitWriter.render(j))
        #expect(try String(contentsOfFile: "\(dir)/metrics.prom", encoding: .utf8) == MetricsWriter.render(j))
    }

    @Test("in a GitHub Actions job the report is appended to GITHUB_STEP_SUMMARY; one that cannot be written is a warning, not a failure")
    func stepSummary() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "version: 1\ntitle: summary to a job\nduration: 100ms\n".write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        try "## earlier step\n".write(toFile: "\(dir)/summary.md", atomically: true, encoding: .utf8)
        func run(_ summary: String) throws -> FaultlineBinary.Output {
            let p = try Spawned(
                ["env", "GITHUB_STEP_SUMMARY=\(summary)", FaultlineBinary.path, "run", "e.yaml", "--state-dir", "st", "--out", "reports"],
                in: dir, stdout: "\(dir)/stdout", stderr: "\(dir)/stderr")
            return FaultlineBinary.collect(p, in: dir)
        }
        let ok = try run("\(dir)/summary.md")
        #expect(ok.status == 0 && !ok.stderr.contains("GITHUB_STEP_SUMMARY"), "\(ok.stderr)")
        let summary = try String(contentsOfFile: "\(dir)/summary.md", encoding: .utf8)
        // Appended after what an earlier step wrote, and the same text as report.md.
        let report = try String(contentsOfFile: "\(dir)/reports/latest/report.md", encoding: .utf8)
        #expect(summary == "## earlier step\n" + report + "\n")
        #expect(report.contains("summary to a job") && report.contains("PASSED"))
        let bad = try run(dir)
        #expect(bad.status == 0, "\(bad.stderr)")
        #expect(bad.stderr.contains("GITHUB_STEP_SUMMARY") && bad.stderr.contains("the job summary is left out"), "\(bad.stderr)")
    }

    @Test("the journal schema holds a real run's journal and refuses one with a key it does not name, or a wrong type")
    func journalSchema() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = """
            version: 1
            title: schema
            duration: 300ms
            probes: [{name: p, interval: 50ms, command: {argv: ["true"]}}]
            actions: [{name: a, at: 100ms, command: ["true"]}]
            expect: {recovery_time: {probe: p, fault: none, max: 1s}}
            faults: [{name: none, at: 50ms, duration: 100ms, pause: {host: local, process: {pidfile: sleeper.pid}}}]
            """
        try e.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let sleeper = try Spawned(["sleep", "30"])
        defer { sleeper.stop() }
        try "\(sleeper.pid)\n".write(toFile: "\(dir)/sleeper.pid", atomically: true, encoding: .utf8)
        let run = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "st", "--out", "reports"], in: dir)
        let path = "\(dir)/reports/latest/journal.json"
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try journalSchemaComplaint(path) == nil)
        var j = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        j["surprise"] = 1
        j["duration_ns"] = "long"
        try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: "\(dir)/bad.json"))
        let said = try #require(try journalSchemaComplaint("\(dir)/bad.json"))
        #expect(said.contains("duration_ns: 'long' is not of type 'integer'") && said.contains("'surprise' was unexpected"), "\(said)")
    }

    @Test("--format chooses the reports beside journal.json, for run and report; an unknown one is 64 before anything runs")
    func formats() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "version: 1\ntitle: some formats\nduration: 100ms\n".write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let run = try FaultlineBinary.run(
            ["run", "e.yaml", "--state-dir", "st", "--out", "reports", "--format", "prom,md", "--format", "prom"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/reports/latest").sorted()
        #expect(files == ["journal.json", "metrics.prom", "report.md"])
        // Without report.md the summary names the journal.
        let bare = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "st", "--out", "bare", "--format", "junit"], in: dir)
        #expect(bare.status == 0 && bare.stdout.contains("journal: bare/") && !bare.stdout.contains("report.md"), "\(bare.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/bare/latest").sorted() == ["journal.json", "junit.xml"])
        let bad = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "st", "--out", "never", "--format", "md,pdf"], in: dir)
        #expect(bad.status == ExitCode.badInput, "\(bad.stderr)")
        #expect(bad.stderr.contains("'pdf' is not a report format; valid: html, md, junit, prom, annotations"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/never"))
        let again = try FaultlineBinary.run(["report", "bare/latest/journal.json", "--format", "annotations,html"], in: dir)
        #expect(
            again.status == 0 && again.stdout.contains("rendered annotations.json and report.html in bare/latest"),
            "\(again.stdout)\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/bare/latest/annotations.json"))
        #expect(FileManager.default.fileExists(atPath: "\(dir)/bare/latest/report.html"))
    }

    @Test("--version and --help name the exit codes")
    func versionAndHelp() throws {
        // In a folder of its own: the captured output files are left in it, not in /tmp.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v = try FaultlineBinary.run(["--version"], in: dir)
        #expect(v.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let h = try FaultlineBinary.run(["run", "--help"], in: dir)
        #expect(h.stdout.contains("4 residue left"))
    }

    @Test("the shipped experiments/web-pause.yaml runs as shipped: journal, report, junit; nothing left paused")
    func shippedLocalRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The target its comment says to start first.
        let server = try Child(["python3", "-m", "http.server", "18081", "--bind", "127.0.0.1", "--directory", dir])
        defer { server.stop() }
        try waitForPort(18081)
        let out = try FaultlineBinary.run(
            ["run", "\(Self.root)/experiments/web-pause.yaml", "--state-dir", "\(dir)/state", "--out", "\(dir)/reports"], in: dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let latest = "\(dir)/reports/latest"
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(latest)/journal.json"))) as? [String: Any]
            ?? [:]
        for key in ["verdict", "experiment", "started_at", "faults", "checks", "residue"] {
            #expect(object[key] != nil, "journal lacks \(key)")
        }
        #expect(object["verdict"] as? String == "passed")
        #expect(
            FileManager.default.fileExists(atPath: "\(latest)/report.md") && FileManager.default.fileExists(atPath: "\(latest)/junit.xml"))
        #expect(processState(server.pid) != "T")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/state")) ?? []).isEmpty)
    }
}
