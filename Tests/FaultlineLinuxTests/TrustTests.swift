import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// Records faultline reads back — ledgers, lab state, its own output files — are refused
/// unless faultline could have written them, and nothing they name is touched.
@Suite("trusting only faultline's own records")
struct TrustTests {
    /// A ledger of a dead runner, written as a planted file would be.
    func plant(_ dir: String, runId: String, _ entries: [Ledger.Entry]) throws {
        let file = Ledger.File(runId: runId, ownerPid: 999_999, ownerStartTime: 1, createdAt: "", entries: entries)
        try Ledger.writeDurably(try Journal.encoder().encode(file), to: "\(dir)/\(runId).json")
    }

    func entry(_ id: Int, _ undo: [UndoStep]) -> Ledger.Entry {
        Ledger.Entry(id: id, fault: "f\(id)", host: "local", summary: "planted", undo: undo, state: .pending)
    }

    @Test("a planted ledger: SIGKILL to a live process, SIGCONT to PID 1, a foreign nft table — all refused, nothing touched")
    func plantedLedger() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o700)
        let victim = try Child(["sleep", "61"])
        defer { victim.stop() }
        usleep(20_000)
        let ref = try #require(ProcFS.stat(victim.pid).map { ProcessRef(pid: victim.pid, startTime: $0.startTime, name: $0.comm) })
        let init1 = ProcessRef(pid: 1, startTime: ProcFS.stat(1)?.startTime ?? 1, name: "init")
        try plant(
            dir, runId: "planted",
            [
                entry(0, [.signal(ref, signal: SIGKILL)]),
                entry(1, [.signal(init1, signal: SIGCONT)]),
                entry(2, [.nftDeleteTable("notours")]),
            ])
        let out = Recovery.recover(directory: dir, runId: nil, force: false)
        #expect(out.failures == 3, "\(out.lines)")
        #expect(out.lines.contains { $0.contains("refused to revert 'f0'") && $0.contains("signal 9 is not an undo faultline records") })
        #expect(out.lines.contains { $0.contains("refused to revert 'f1'") && $0.contains("pid 1 is never signalled") })
        #expect(
            out.lines.contains { $0.contains("refused to revert 'f2'") && $0.contains("'notours' is not named like faultline's tables") })
        #expect(victim.isRunning && ProcFS.stat(victim.pid)?.state != "T", "the victim was not signalled")
        // The entries stay pending: the ledger is not cleared as if they were done.
        let after = try Journal.decoder().decode(Ledger.File.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/planted.json")))
        #expect(after.entries.allSatisfy { $0.state == .pending })
    }

    @Test("a state directory others can write, or that is a symbolic link, is refused before any ledger in it is read")
    func untrustedStateDirectory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        let victim = try Child(["sleep", "62"])
        defer { victim.stop() }
        usleep(20_000)
        let ref = try #require(ProcFS.stat(victim.pid).map { ProcessRef(pid: victim.pid, startTime: $0.startTime, name: $0.comm) })
        try plant(dir, runId: "planted", [entry(0, [.signal(ref, signal: SIGCONT)])])
        let out = Recovery.recover(directory: dir, runId: nil, force: false)
        #expect(out.failures == 1)
        #expect(
            out.lines == [
                "state directory '\(dir)' can be written by group or others (mode 777); refused (chmod go-w '\(dir)'); no ledger in it was read"
            ])
        #expect(throws: LedgerError.self) { try Ledger(directory: dir, runId: "r1") }
        chmod(dir, 0o700)
        let link = dir + "-link"
        #expect(symlink(dir, link) == 0)
        defer { unlink(link) }
        #expect(throws: LedgerError.io("state directory '\(link)' is a symbolic link; refused (use the real path)")) {
            try Ledger.ensureDirectory(link)
        }
        #expect(
            Recovery.recover(directory: dir, runId: "../../etc/passwd", force: false).lines.first?.contains("is not a faultline run id")
                == true)
    }

    @Test("a planted symbolic link where a ledger or report is written is replaced, never written through")
    func plantedSymlink() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = "\(dir)/victim.txt"
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        #expect(symlink(victim, "\(dir)/ledger.json") == 0)
        try AtomicFile.replace("\(dir)/ledger.json", with: Data("{}".utf8), mode: 0o600, flush: .contentsAndName)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        var st = stat()
        #expect(lstat("\(dir)/ledger.json", &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
        // A ledger that is a symbolic link is not read by recovery.
        chmod(dir, 0o700)
        #expect(symlink(victim, "\(dir)/linked.json") == 0)
        let out = Recovery.recover(directory: dir, runId: "linked", force: false)
        #expect(out.lines.first?.contains("is a symbolic link; refused") == true, "\(out.lines)")
        // A run's report folder that already exists (here a link to elsewhere) is refused.
        let journal = Journal(
            runId: "20261201-000000-beef", experiment: ExperimentSummary(Experiment(title: "t", duration: 1)), startedAt: "")
        try FileManager.default.createDirectory(atPath: "\(dir)/reports", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir)/elsewhere", withIntermediateDirectories: true)
        #expect(symlink("\(dir)/elsewhere", "\(dir)/reports/20261201-000000-beef") == 0)
        #expect(throws: (any Error).self) { try ReportFiles.write(journal, root: "\(dir)/reports") }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/elsewhere")) ?? ["?"]).isEmpty)
    }

    @Test("lab state naming objects outside the lab's scheme is left alone: a foreign namespace survives 'lab down'")
    func plantedLabState() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let foreign = "flplant\(UInt16.random(in: 1000...9999))"
        #expect(Spawner.run(.argv(["ip", "netns", "add", foreign]), timeout: 5_000_000_000).status == 0)
        defer { _ = Spawner.run(.argv(["ip", "netns", "del", foreign]), timeout: 5_000_000_000) }
        try FileManager.default.createDirectory(atPath: "\(root)/pl", withIntermediateDirectories: true)
        var state = LabState(lab: "pl", source: "x", subnet: "198.18.9.0/24", dataDir: "/etc", createdAt: "")
        state.hosts = [LabState.Host(name: "n1", address: "198.18.9.11", namespace: foreign, veth: "lo")]
        try state.save(dataRoot: root)
        let problems = LabManager(dataRoot: root, executable: "/nonexistent") { _ in }.down("pl")
        #expect(problems.count == 1 && problems[0].contains("left alone"), "\(problems)")
        #expect(FileManager.default.fileExists(atPath: "/run/netns/\(foreign)"), "the foreign namespace is still there")
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"), "the data directory it named was not removed")
        // A lab name with '..' never becomes a path.
        #expect(LabManager(dataRoot: root, executable: "/nonexistent") { _ in }.down("../pl").first?.contains("is not a lab name") == true)
    }

    @Test(
        "recover --all on an untrusted state directory follows no planted ssh-* link; in a trusted one, only to a private directory of ours"
    )
    func plantedSSHLinks() throws {
        let state = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var template = Array("/tmp/ssh-XXXXXX".utf8CString)
        let victim = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: victim) }
        try "keep me".write(toFile: "\(victim)/data", atomically: true, encoding: .utf8)
        #expect(symlink(victim, "\(state)/ssh-planted") == 0)
        chmod(state, 0o777)
        let untrusted = Recovery.sweepSSHDirectories(state, force: true)
        #expect(
            untrusted.failures == 1 && untrusted.lines.first?.contains("no ssh control directory in it was touched") == true,
            "\(untrusted.lines)")
        #expect(FileManager.default.fileExists(atPath: "\(victim)/data"), "a planted link in an untrusted directory was followed")
        // Trusted directory, but the link names a directory others can read: left alone too.
        chmod(state, 0o700)
        chmod(victim, 0o755)
        let open = Recovery.sweepSSHDirectories(state, force: true)
        #expect(open.lines.first?.contains("not a private directory of this user's; left alone") == true, "\(open.lines)")
        #expect(FileManager.default.fileExists(atPath: "\(victim)/data"))
    }

    @Test("a process whose arguments are 'lab host-init' is not taken for a lab's init: 'lab down' leaves it alone")
    func fakeLabInit() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // python3 runs ./lab, so its command line is 'python3 lab host-init' and it keeps running.
        try "import time\ntime.sleep(60)\n".write(toFile: "\(root)/lab", atomically: true, encoding: .utf8)
        let fake = try Child(["python3", "lab", "host-init"], in: root)
        defer { fake.stop() }
        let until = MonotonicClock.now() + 2_000_000_000
        while Array(ProcFS.cmdline(fake.pid).dropFirst()) != ["lab", "host-init"], MonotonicClock.now() < until { usleep(2_000) }
        #expect(Array(ProcFS.cmdline(fake.pid).dropFirst()) == ["lab", "host-init"])
        let ref = try #require(ProcFS.stat(fake.pid).map { ProcessRef(pid: fake.pid, startTime: $0.startTime, name: $0.comm) })
        try FileManager.default.createDirectory(atPath: "\(root)/pl", withIntermediateDirectories: true)
        var state = LabState(lab: "pl", source: "x", subnet: "198.18.9.0/24", dataDir: "\(root)/pl", createdAt: "")
        state.hosts = [LabState.Host(name: "n1", address: "198.18.9.11", namespace: "fl-pl-n1", veth: "fl-pl-1", initProcess: ref)]
        try state.save(dataRoot: root)
        #expect(!LabState.isLabInit(ref, of: state.hosts[0]))
        let problems = LabManager(dataRoot: root, executable: "/nonexistent") { _ in }.down("pl")
        #expect(problems.contains { $0.contains("is not this lab's init") && $0.contains("left alone") }, "\(problems)")
        #expect(fake.isRunning, "lab down killed a process that only looked like a lab's init")
    }
}
