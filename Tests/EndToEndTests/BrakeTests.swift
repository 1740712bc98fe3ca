import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The brake on real processes: a stop condition, a halt of one run, the state directory's
/// lever and a fleet's halt file. Each stops a held pause at once, runs the rollbacks, and
/// ends `aborted` with what stopped it and how fast every fault was reverted.
@Suite("the brake: stop conditions and halts", .serialized)
struct BrakeTests {
    final class Scratch {
        let dir: String
        init() throws { dir = try temporaryDirectory() }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// A 30 s run that pauses `victim` from 200 ms for 25 s, with a guard probe that fails
        /// once `trip` exists, and a rollback that leaves `rolled-back`.
        func experiment(_ victim: Child, stopWhen: String = "") throws -> String {
            let text = """
                version: 1
                title: brake
                duration: 30s
                probes:
                  - {name: guard, interval: 20ms, command: {argv: [test, "!", "-e", "\(dir)/trip"]}}
                faults:
                  - {name: freeze, at: 200ms, duration: 25s, pause: {process: {pid: \(victim.pid)}}}
                rollbacks: [{name: note, command: [touch, rolled-back]}]
                \(stopWhen)
                """
            try text.write(toFile: "\(dir)/brake.yaml", atomically: true, encoding: .utf8)
            return "brake.yaml"
        }

        func start(_ file: String, _ extra: [String] = []) throws -> Spawned {
            try FaultlineBinary.start(["run", file, "--state-dir", "state", "--out", "reports"] + extra, in: dir)
        }

        func journal() throws -> Journal {
            try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        }

        func file(_ relative: String) -> String { (try? String(contentsOfFile: "\(dir)/\(relative)", encoding: .utf8)) ?? "" }
        func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: "\(dir)/\(relative)") }

        var runs: [String] { (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/state/runs")) ?? [] }
    }

    /// What every stop must leave: exit 3, the process continued, rollbacks run, the stop
    /// recorded with its reaction, nothing held.
    func expectStopped(_ s: Scratch, _ out: FaultlineBinary.Output, _ victim: Child, condition: String) throws -> StopRecord {
        #expect(out.status == ExitCode.aborted, "\(out.stdout)\(out.stderr)")
        #expect(processState(victim.pid) != "T")
        #expect(s.exists("rolled-back"), "rollbacks run after a stop")
        let j = try s.journal()
        #expect(j.verdict == .aborted && j.residue.isEmpty, "\(j.reasons) \(j.residue)")
        let stop = try #require(j.stop, "\(out.stdout)")
        #expect(stop.condition == condition, "\(stop)")
        #expect(stop.faults == 1 && j.faults.first?.revertedAt != nil)
        #expect(j.reasons.first?.hasPrefix("stopped: \(condition)") == true, "\(j.reasons)")
        #expect(s.file("reports/latest/report.md").contains("## Stopped"))
        #expect(s.runs.isEmpty, "the run's marker is gone: \(s.runs)")
        return stop
    }

    @Test("a guard probe fails during a pause: every fault reverted at once, measured from the breaching sample; rollbacks run")
    func stopCondition() throws {
        let s = try Scratch()
        let victim = try Child(["sleep", "60"])
        defer { victim.stop() }
        let p = try s.start(try s.experiment(victim, stopWhen: "stop_when: {failures: {probe: guard}}"))
        defer { p.stop() }
        try waitUntil(5) { processState(victim.pid) == "T" }
        FileManager.default.createFile(atPath: "\(s.dir)/trip", contents: nil)
        let tripped = Date()
        let out = FaultlineBinary.collect(p, in: s.dir)
        let stop = try expectStopped(s, out, victim, condition: "guard fails")
        #expect(stop.measured == "its sample failed: exit 1, expected 0", "\(stop)")
        #expect(stop.samples.count == 1)
        let reaction = try #require(stop.reactionNs)
        print("stop condition: reverted \(DurationText.format(reaction)) after the breaching sample")
        // The bound: the revert of one pause is one request to the agent; 500 ms is what a
        // loaded CI machine may add, far below the 25 s the fault had left.
        #expect(reaction < 500_000_000, "\(stop)")
        #expect(Date().timeIntervalSince(tripped) < 10)
    }

    @Test("faultline halt --run: that run stops, its halt file and marker are gone; a run that is not running is bad input")
    func haltOne() throws {
        let s = try Scratch()
        let victim = try Child(["sleep", "61"])
        defer { victim.stop() }
        let p = try s.start(try s.experiment(victim))
        defer { p.stop() }
        try waitUntil(5) { processState(victim.pid) == "T" }
        let id = try #require(s.runs.first)
        let halt = try FaultlineBinary.run(["halt", "--run", id, "--state-dir", "state"], in: s.dir)
        #expect(halt.status == 0 && halt.stdout.contains("run \(id) ended"), "\(halt.stdout)\(halt.stderr)")
        let out = FaultlineBinary.collect(p, in: s.dir)
        let stop = try expectStopped(s, out, victim, condition: "halt of this run")
        #expect(stop.reactionNs.map { $0 < 500_000_000 } == true, "\(stop)")
        #expect(!s.exists("state/HALT.\(id)"))
        let none = try FaultlineBinary.run(["halt", "--run", id, "--state-dir", "state"], in: s.dir)
        #expect(none.status == ExitCode.badInput && none.stderr.contains("no run \(id) is running"), "\(none.stderr)")
        let hostile = try FaultlineBinary.run(["halt", "--run", "../../etc/x", "--state-dir", "state"], in: s.dir)
        #expect(hostile.status == ExitCode.badInput && !s.exists("../etc/x"))
    }

    @Test("faultline halt --all: the running run stops, a new one is refused before anything is injected, --clear lets it run")
    func lever() throws {
        let s = try Scratch()
        let victim = try Child(["sleep", "62"])
        defer { victim.stop() }
        let file = try s.experiment(victim)
        let p = try s.start(file)
        defer { p.stop() }
        try waitUntil(5) { processState(victim.pid) == "T" }
        let halt = try FaultlineBinary.run(["halt", "--all", "--state-dir", "state"], in: s.dir)
        #expect(halt.status == 0 && halt.stdout.contains("until 'faultline halt --clear'"), "\(halt.stdout)\(halt.stderr)")
        _ = try expectStopped(s, FaultlineBinary.collect(p, in: s.dir), victim, condition: "halt")
        try FileManager.default.removeItem(atPath: "\(s.dir)/rolled-back")
        let refused = try FaultlineBinary.run(["run", file, "--state-dir", "state", "--out", "reports"], in: s.dir)
        #expect(refused.status == ExitCode.invalid, "\(refused.stdout)\(refused.stderr)")
        #expect(
            refused.stdout.contains("halt file '\(s.dir)/state/HALT' exists") || refused.stdout.contains("halt file 'state/HALT' exists"),
            "\(refused.stdout)")
        let j = try s.journal()
        #expect(j.faults.allSatisfy { $0.injectedAt == nil } && !s.exists("rolled-back"), "nothing started: \(j.faults)")
        let clear = try FaultlineBinary.run(["halt", "--clear", "--state-dir", "state"], in: s.dir)
        #expect(clear.status == 0 && !s.exists("state/HALT"))
        let again = try FaultlineBinary.run(["run", "--dry-run", file, "--state-dir", "state"], in: s.dir)
        #expect(again.status == 0)
    }

    @Test("a fleet's halt file (--halt-file, shared storage) stops every run that names it")
    func fleetFile() throws {
        let s = try Scratch()
        let victim = try Child(["sleep", "63"])
        defer { victim.stop() }
        let p = try s.start(try s.experiment(victim), ["--halt-file", "\(s.dir)/fleet.halt"])
        defer { p.stop() }
        try waitUntil(5) { processState(victim.pid) == "T" }
        let halt = try FaultlineBinary.run(["halt", "--file", "\(s.dir)/fleet.halt", "--state-dir", "other"], in: s.dir)
        #expect(halt.status == 0, "\(halt.stdout)\(halt.stderr)")
        let stop = try expectStopped(s, FaultlineBinary.collect(p, in: s.dir), victim, condition: "halt")
        #expect(stop.measured.hasPrefix("halt file '\(s.dir)/fleet.halt' appeared (written "), "\(stop)")
    }
}
