import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("ledger and recovery", .serialized)
struct LedgerTests {
    @Test("entries are on disk before injection; a clean ledger is removed")
    func lifecycle() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ledger = try Ledger(directory: dir, runId: "r1")
        let ref = ProcessRef(pid: 999_999, startTime: 1, name: "x")
        let id = try ledger.record(fault: "f", host: "local", summary: "s", undo: [.signal(ref, signal: SIGCONT)])
        let onDisk = try Journal.decoder().decode(Ledger.File.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/r1.json")))
        #expect(onDisk.entries.map(\.state) == [.pending])
        #expect(onDisk.ownerPid == getpid())
        #expect(!ledger.closeIfClean())
        try ledger.markReverted(id)
        #expect(ledger.closeIfClean())
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/r1.json"))
    }

    @Test("a ledger written entry by entry reads, byte for byte, as the whole file encoded at once")
    func incremental() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ledger = try Ledger(directory: dir, runId: "r2")
        let ref = ProcessRef(pid: 999_999, startTime: 1, name: "x \"q\" /p")
        let a = try ledger.record(fault: "a", host: "h1", summary: "SIGSTOP to 999999 (x)", undo: [.signal(ref, signal: SIGCONT)])
        _ = try ledger.record(fault: "k", host: "h2", summary: "SIGKILL\nto 1", undo: [])
        _ = try ledger.record(fault: "b", host: "h1", summary: "µs → ✓", undo: [.signal(ref, signal: SIGCONT)])
        try ledger.markReverted(a)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/r2.json"))
        let onDisk = try Journal.decoder().decode(Ledger.File.self, from: bytes)
        #expect(onDisk.entries.map(\.state) == [.reverted, .irreversible, .pending])
        #expect(onDisk.entries.map(\.fault) == ["a", "k", "b"])
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: try JSONText().encode(onDisk), as: UTF8.self))
    }

    @Test("recover --all removes the ssh control directories of runners that are gone, not a live one's")
    func sshDirectories() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for d in ["ssh-live", "ssh-dead", "ssh-nobody"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: false)
        }
        Recovery.markSSHDirectory("\(dir)/ssh-live")
        try "999999 1\n".write(toFile: "\(dir)/ssh-dead/owner", atomically: true, encoding: .utf8)
        try "stale".write(toFile: "\(dir)/ssh-dead/db1", atomically: true, encoding: .utf8)
        try "not a directory".write(toFile: "\(dir)/ssh-plain-file", atomically: true, encoding: .utf8)
        // One made in /tmp, linked from the state directory; and a link that points elsewhere.
        var template = Array("/tmp/ssh-XXXXXX".utf8CString)
        let tmp = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try "999999 1\n".write(toFile: "\(tmp)/owner", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/\((tmp as NSString).lastPathComponent)", withDestinationPath: tmp)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/ssh-elsewhere", withDestinationPath: "\(dir)/ssh-live")
        let out = Recovery.sweepSSHDirectories(dir, force: false)
        #expect(out.failures == 0, "\(out.lines)")
        #expect(!FileManager.default.fileExists(atPath: tmp), "the /tmp directory went with its link")
        try? FileManager.default.removeItem(atPath: "\(dir)/ssh-elsewhere")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == ["ssh-live", "ssh-plain-file"], "\(left) \(out.lines)")
        #expect(out.lines.contains { $0.contains("ssh-live: its runner (pid \(getpid())) is alive; left alone") }, "\(out.lines)")
        #expect(out.lines.contains("ssh control directory ssh-dead of a runner that is gone: removed"), "\(out.lines)")
    }

    @Test("recover continues a process paused by a runner that died, then removes the ledger")
    func recoverDeadRunner() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = try Child(["sleep", "36"])
        defer { victim.stop() }
        let ref = try #require(ProcessResolver.matches(.pid(victim.pid)).first)
        kill(victim.pid, SIGSTOP)
        usleep(50_000)
        #expect(ProcFS.stat(victim.pid)?.state == "T")
        // A ledger whose owner is a process that no longer exists.
        let file = Ledger.File(
            runId: "dead", ownerPid: 999_999, ownerStartTime: 1, createdAt: "now",
            entries: [
                .init(id: 0, fault: "freeze", host: "local", summary: "SIGSTOP", undo: [.signal(ref, signal: SIGCONT)], state: .pending)
            ])
        try Ledger.writeDurably(try Journal.encoder().encode(file), to: "\(dir)/dead.json")
        let outcome = Recovery.recover(directory: dir, runId: nil, force: false)
        #expect(outcome.failures == 0)
        #expect(outcome.lines.first?.contains("reverted 'freeze'") == true)
        usleep(50_000)
        #expect(ProcFS.stat(victim.pid)?.state != "T")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/dead.json"))
    }

    @Test("recover leaves a live runner's faults alone unless forced")
    func recoverLiveOwner() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ledger = try Ledger(directory: dir, runId: "live")
        _ = try ledger.record(
            fault: "f", host: "local", summary: "s", undo: [.signal(ProcessRef(pid: 999_999, startTime: 1, name: "x"), signal: SIGCONT)])
        let outcome = Recovery.recover(directory: dir, runId: "live", force: false)
        #expect(outcome.lines.first?.contains("still running; left alone") == true)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/live.json"))
        #expect(Recovery.recover(directory: dir, runId: "live", force: true).failures == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/live.json"))
    }
}
