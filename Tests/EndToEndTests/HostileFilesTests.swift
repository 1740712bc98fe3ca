import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// Files and folders as a hostile or careless setup gives them, through the built binary:
/// report folders that cannot be written, a `latest` that is a directory, journals that are not
/// journals, symbolic links (a Kubernetes ConfigMap volume is all links), secrets named as
/// pid files and inventories.
@Suite("hostile files and folders through the binary", .serialized)
struct HostileFilesTests {
    final class Scratch {
        let dir: String
        init() throws { dir = try temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
        func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
            try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            chmod("\(dir)/\(name)", mode)
        }
        func run(_ args: [String]) throws -> FaultlineBinary.Output { try FaultlineBinary.run(args, in: dir) }
        var ledgers: [String] { (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/state")) ?? [] }
    }

    /// A pause on a child of the test: if the run injected anything, the child was stopped.
    func pauseExperiment(_ pid: Int32) -> String {
        "version: 1\ntitle: t\nduration: 300ms\nfaults: [{at: 50ms, duration: 100ms, pause: {process: {pid: \(pid)}}}]\n"
    }

    @Test("--out that cannot be written, or whose 'latest' is a directory, is refused before anything is injected (64)")
    func outChecked() throws {
        let s = try Scratch()
        let child = try Child(["sleep", "30"])
        defer { child.stop() }
        try s.write("e.yaml", pauseExperiment(child.pid))
        try s.write("afile", "x")
        for out in ["afile/reports", "/proc/faultline-reports"] {
            let r = try s.run(["run", "e.yaml", "--state-dir", "state", "--out", out])
            #expect(r.status == ExitCode.badInput && r.stderr.contains("--out:") && r.stderr.contains("nothing was run"), "\(r.stderr)")
        }
        try FileManager.default.createDirectory(atPath: "\(s.dir)/reports/latest", withIntermediateDirectories: true)
        let r = try s.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"])
        #expect(r.status == ExitCode.badInput && r.stderr.contains("'reports/latest' is not a symbolic link"), "\(r.stderr)")
        #expect(s.ledgers.isEmpty, "a ledger was written: something was injected")
        // With a usable folder the same run works, and latest is the run just written.
        try FileManager.default.removeItem(atPath: "\(s.dir)/reports/latest")
        let ok = try s.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        let latest = try FileManager.default.destinationOfSymbolicLink(atPath: "\(s.dir)/reports/latest")
        #expect(ok.stdout.contains("report: reports/\(latest)/report.md"), "\(ok.stdout)")
    }

    @Test("report: a journal that is not one is 64; reports that cannot be written are 70, not 1 ('a guarantee broke')")
    func reportExitCodes() throws {
        let s = try Scratch()
        try s.write("notjournal.json", "{\"verdict\": 1}")
        #expect(try s.run(["report", "notjournal.json"]).status == ExitCode.badInput)
        #expect(mkfifo("\(s.dir)/fifo.json", 0o600) == 0)
        let fifo = try s.run(["report", "fifo.json"])
        #expect(fifo.status == ExitCode.badInput && fifo.stderr.contains("not a regular file"), "\(fifo.stderr)")
        let child = try Child(["sleep", "30"])
        defer { child.stop() }
        try s.write("e.yaml", pauseExperiment(child.pid))
        #expect(try s.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"]).status == 0)
        let dir = "\(s.dir)/reports/" + (try FileManager.default.destinationOfSymbolicLink(atPath: "\(s.dir)/reports/latest"))
        try FileManager.default.removeItem(atPath: "\(dir)/report.md")
        try FileManager.default.createDirectory(atPath: "\(dir)/report.md/blocked", withIntermediateDirectories: true)
        let r = try s.run(["report", "\(dir)/journal.json"])
        #expect(r.status == ExitCode.internalError && r.stderr.contains("cannot write the reports"), "\(r.status) \(r.stderr)")
    }

    @Test("experiment, lab and inventory files reached through symbolic links are read; a link to a FIFO is refused")
    func symlinks() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: "\(s.dir)/data", withIntermediateDirectories: true)
        try s.write("data/lab.yaml", "lab: ln\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11}}\n")
        try s.write("data/hosts.ini", "[db]\ndb1 ansible_host=198.18.9.21\n")
        try s.write("data/e.yaml", "version: 1\ntitle: t\nduration: 1s\nlab: lab.yaml\n")
        try s.write("data/i.yaml", "version: 1\ntitle: t\nduration: 1s\nhosts: {from: hosts.ini}\n")
        // As a ConfigMap mounts them: each name a link to a file in a hidden folder.
        for f in ["lab.yaml", "hosts.ini", "e.yaml", "i.yaml"] { #expect(symlink("data/\(f)", "\(s.dir)/\(f)") == 0) }
        let r = try s.run(["validate", "e.yaml", "i.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(mkfifo("\(s.dir)/data/fifo", 0o600) == 0)
        #expect(symlink("data/fifo", "\(s.dir)/f.yaml") == 0)
        let f = try s.run(["validate", "f.yaml"])
        #expect(f.status == ExitCode.badInput && f.stderr.contains("f.yaml:1:1: cannot read file: not a regular file"), "\(f.stderr)")
    }

    @Test("a secret named as a pid file or an inventory is never shown: not by validate, plan, the journal, report.md or junit.xml")
    func secretsStayHidden() throws {
        let s = try Scratch()
        let secret = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
        try s.write("secret", secret + "\n", mode: 0o600)
        // Even one that looks like a host name, and is readable: never a host without being an inventory.
        try s.write("token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a\n", mode: 0o600)
        try s.write(
            "pidfile.yaml",
            "version: 1\ntitle: t\nduration: 300ms\nfaults: [{at: 50ms, duration: 100ms, pause: {process: {pidfile: secret}}}]\n")
        try s.write("inv.yaml", "version: 1\ntitle: t\nduration: 1s\nhosts: {from: secret}\n")
        try s.write("tok.yaml", "version: 1\ntitle: t\nduration: 1s\nhosts: {from: token}\n")
        var seen = ""
        for args in [["validate", "inv.yaml"], ["validate", "tok.yaml"], ["plan", "pidfile.yaml"], ["plan", "tok.yaml"]] {
            let r = try s.run(args)
            seen += r.stdout + r.stderr
        }
        let run = try s.run(["run", "pidfile.yaml", "--state-dir", "state", "--out", "reports"])
        #expect(run.status == ExitCode.invalid, "\(run.stdout)\(run.stderr)")
        seen += run.stdout + run.stderr
        for f in ["journal.json", "report.md", "junit.xml"] {
            seen += (try? String(contentsOfFile: "\(s.dir)/reports/latest/\(f)", encoding: .utf8)) ?? "(no \(f))"
        }
        #expect(!seen.contains("wJalrXUtnFEMIK7MDENG") && !seen.contains("AWS_SECRET") && !seen.contains("ghp_16C7"), "\(seen)")
        #expect(seen.contains("does not start with a process id") && seen.contains("others may not read it"), "\(seen)")
    }

    @Test("recover prints names from a planted ledger escaped: no terminal escape, no forged line")
    func recoverEscapes() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: "\(s.dir)/state", withIntermediateDirectories: true)
        chmod("\(s.dir)/state", 0o700)
        let forged = "f\u{1B}[2J\nrun x: ledger clean, removed\u{202E}"
        let ledger = """
            {"run_id": "planted", "owner_pid": 999999, "owner_start_time": 1, "created_at": "",
             "entries": [{"id": 0, "fault": \(JSONText.quoted(forged)), "host": \(JSONText.quoted(forged)), "summary": "x", "undo": [], "state": "pending"}]}
            """
        try s.write("state/planted.json", ledger, mode: 0o600)
        let r = try s.run(["recover", "--run", "planted", "--state-dir", "state"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains("reverted 'f\\u{1B}[2J\\nrun x"), "\(r.stdout)")
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(r.stdout)")
    }
}
