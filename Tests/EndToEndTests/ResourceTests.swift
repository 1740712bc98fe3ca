import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The resource kinds on this machine: CPU workers, a memory worker, a filled filesystem (a
/// 64 MiB tmpfs of the test's own), an IO writer, each confirmed by its measured effect and gone afterwards
/// — after the normal end, a stop condition, SIGTERM, and SIGKILL of the runner.
@Suite("resource pressure: cpu, memory, disk_fill, io", .serialized, .enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
struct ResourceTests {
    final class Scratch {
        let dir: String
        let fill: String
        init() throws {
            dir = try temporaryDirectory()
            fill = "\(dir)/fill"
            try FileManager.default.createDirectory(atPath: fill, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(dir)/io", withIntermediateDirectories: true)
            let m = Spawner.run(.argv(["mount", "-t", "tmpfs", "-o", "size=64m", "faultline-test", fill]), timeout: 10_000_000_000)
            #expect(m.status == 0, "\(m.output)")
        }
        deinit {
            // An agent that is still reverting may hold it a moment: retry, then detach it.
            var unmounted = false
            for _ in 0..<40 where !unmounted {
                unmounted = Spawner.run(.argv(["umount", fill]), timeout: 10_000_000_000).status == 0
                if !unmounted { usleep(50_000) }
            }
            if !unmounted { _ = Spawner.run(.argv(["umount", "-l", fill]), timeout: 10_000_000_000) }
            try? FileManager.default.removeItem(atPath: dir)
        }

        /// cpu, memory and disk_fill from 200 ms for `hold`; a guard probe that fails once `trip` exists.
        func experiment(hold: String = "1500ms", length: String = "3s", stop: Bool = false) throws -> String {
            let text = """
                version: 1
                title: resource pressure
                duration: \(length)
                probes:
                  - {name: guard, interval: 20ms, command: {argv: [test, "!", "-e", "\(dir)/trip"]}}
                faults:
                  - {name: burn, at: 200ms, duration: \(hold), cpu: {workers: 2, load: 50%}}
                  - {name: hog, at: 200ms, duration: \(hold), memory: {allocate: 128MiB}}
                  - {name: full, at: 200ms, duration: \(hold), disk_fill: {path: \(fill), leave: 8MiB}}
                  - {name: write, at: 200ms, duration: \(hold), io: {path: \(dir)/io, allow_state_filesystem: true}}
                \(stop ? "stop_when: {failures: {probe: guard}}" : "")
                """
            try text.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
            return "e.yaml"
        }

        func start() throws -> Spawned {
            try FaultlineBinary.start(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        }
        func journal() throws -> Journal {
            try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        }
        /// The run's workers still alive (any faultline worker whose tag names a run).
        var workers: [Int32] {
            ProcFS.pids().filter { pid in
                ProcFS.cmdline(pid).dropFirst().first == "worker" && ProcFS.cmdline(pid).contains { $0.hasPrefix("faultline_") }
            }
        }
        var fillFiles: [String] {
            (((try? FileManager.default.contentsOfDirectory(atPath: fill)) ?? [])
                + ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/io")) ?? []))
                .filter { $0.hasSuffix(".fill") }
        }
        var freeBytes: UInt64 {
            var v = statvfs()
            return statvfs(fill, &v) == 0 ? UInt64(v.f_bavail) * UInt64(v.f_frsize) : 0
        }

        /// Returns once the three faults hold: the workers run and the filesystem is full.
        func untilHeld(_ p: Spawned) throws {
            try waitUntil(10) { self.workers.count == 4 && self.freeBytes < 10 << 20 }
        }
    }

    @Test("normal end: each kind confirmed by its effect, measured (cores used, memory resident, free space), and gone")
    func normalEnd() throws {
        let s = try Scratch()
        _ = try s.experiment()
        let out = FaultlineBinary.collect(try s.start(), in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let j = try s.journal()
        let f = Dictionary(uniqueKeysWithValues: j.faults.map { ($0.name, $0) })
        #expect(j.faults.count == 4 && j.faults.allSatisfy { $0.confirmed && $0.revertedAt != nil }, "\(j.faults)")
        #expect(f["burn"]?.confirmation?.contains("2 workers using") == true, "\(f["burn"].debugDescription)")
        // Two workers at 50 %: about one core between them over the hold.
        let cores = f["burn"]?.measured?.firstMatch(of: /asked: ([0-9.]+) cores used/).flatMap { Double($0.1) }
        #expect(cores.map { (0.6...1.4).contains($0) } == true, "\(f["burn"]?.measured ?? "")")
        let resident = f["hog"]?.measured?.firstMatch(of: /asked: ([0-9.]+) MiB resident/).flatMap { Double($0.1) }
        #expect(resident.map { $0 >= 115 } == true, "\(f["hog"]?.measured ?? "")")
        #expect(f["full"]?.confirmation?.contains("free of 64 MiB") == true, "\(f["full"].debugDescription)")
        #expect(f["full"]?.measured?.hasPrefix("8 MiB to leave asked: ") == true, "\(f["full"]?.measured ?? "")")
        let rate = f["write"]?.measured?.firstMatch(of: /1 writers: ([0-9.]+) (MiB|GiB|KiB)\/s written and synced/)
        #expect(rate != nil && f["write"]?.confirmation?.contains("1 workers writing") == true, "\(f["write"].debugDescription)")
        #expect(s.workers.isEmpty && s.fillFiles.isEmpty && s.freeBytes > 60 << 20)
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("a stop condition, SIGTERM: the workers end and the fill file goes with the sweep", arguments: ["stop", "sigterm"])
    func stopped(_ how: String) throws {
        let s = try Scratch()
        _ = try s.experiment(hold: "20s", length: "25s", stop: how == "stop")
        let p = try s.start()
        defer { p.stop() }
        try s.untilHeld(p)
        if how == "stop" { FileManager.default.createFile(atPath: "\(s.dir)/trip", contents: nil) } else { kill(p.pid, SIGTERM) }
        let out = FaultlineBinary.collect(p, in: s.dir)
        #expect(out.status == ExitCode.aborted, "\(out.stdout)\(out.stderr)")
        let j = try s.journal()
        #expect(j.stop?.faults == 4 && j.residue.isEmpty, "\(String(describing: j.stop)) \(j.residue)")
        #expect(s.workers.isEmpty && s.fillFiles.isEmpty, "\(s.workers) \(s.fillFiles)")
    }

    @Test("SIGKILL of the runner: its agent's lease lapses and it ends the workers and removes the fill file")
    func runnerKilled() throws {
        let s = try Scratch()
        _ = try s.experiment(hold: "20s", length: "25s")
        let p = try s.start()
        try s.untilHeld(p)
        kill(p.pid, SIGKILL)
        p.wait()
        try waitUntil(3) { s.workers.isEmpty && s.fillFiles.isEmpty }
    }

    @Test("runner and agent SIGKILLed: the workers end on their own; recover --all removes the fill file from the ledger")
    func bothKilled() throws {
        let s = try Scratch()
        _ = try s.experiment(hold: "20s", length: "25s")
        let p = try s.start()
        try s.untilHeld(p)
        let agents = descendants(of: p.pid).filter { commandLine($0).contains(" agent --run ") }
        #expect(agents.count == 1)
        kill(p.pid, SIGSTOP)
        for a in agents { kill(a, SIGKILL) }
        kill(p.pid, SIGKILL)
        p.wait()
        // A worker is no longer its agent's child: it ends within its 100 ms look.
        try waitUntil(2) { s.workers.isEmpty }
        // The IO worker removed its own file as it ended; the disk fill's waits for recovery.
        #expect(s.fillFiles.count == 1, "\(s.fillFiles)")
        let out = try FaultlineBinary.run(["recover", "--all", "--state-dir", "state"], in: s.dir)
        #expect(out.status == 0 && out.stdout.contains("reverted 'full' on local"), "\(out.stdout)\(out.stderr)")
        #expect(s.fillFiles.isEmpty && s.freeBytes > 60 << 20)
    }

    @Test(
        "a disk fill whose folder is missing, or on the ledger's filesystem: invalid before anything is injected, the pause beside it never taken"
    )
    func preflightRefuses() throws {
        let s = try Scratch()
        let victim = try Child(["sleep", "67"])
        defer { victim.stop() }
        for (path, why) in [
            ("\(s.dir)/nowhere", "this host has no \(s.dir)/nowhere"),
            ("\(s.dir)/io", "is on the filesystem of the agent's state directory"),
        ] {
            try """
            version: 1
            title: a fill that cannot be
            duration: 3s
            faults:
              - {name: freeze, at: 200ms, duration: 1s, pause: {process: {pid: \(victim.pid)}}}
              - {name: full, at: 200ms, duration: 1s, disk_fill: {path: \(path), leave: 8MiB}}
            """.write(toFile: "\(s.dir)/e.yaml", atomically: true, encoding: .utf8)
            let out = FaultlineBinary.collect(try s.start(), in: s.dir)
            #expect(out.status == ExitCode.invalid, "\(out.stdout)\(out.stderr)")
            #expect(out.stdout.contains(why), "\(out.stdout)")
            let j = try s.journal()
            #expect(j.faults.allSatisfy { $0.injectedAt == nil }, "\(j.faults)")
        }
    }
}
