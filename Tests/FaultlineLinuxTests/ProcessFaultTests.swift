import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("process selection and faults on real processes", .serialized)
struct ProcessFaultTests {
    @Test("/proc stat of this process")
    func procStat() throws {
        let s = try #require(ProcFS.stat(getpid()))
        #expect(s.state == "R" || s.state == "S")
        #expect(s.ppid == getppid())
        #expect(s.startTime > 0)
        #expect(ProcFS.stat(-5) == nil)
    }

    @Test("/proc stat and cmdline of a process whose name holds spaces and parentheses")
    func procStatOddName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let odd = "\(dir)/a) b (c"
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: odd)
        let child = try Child([odd, "30", "0.5"])
        defer { child.stop() }
        // The spawn returns once the exec is under way; the new image's arguments are in place
        // a moment later.
        let until = MonotonicClock.now() + 2_000_000_000
        while ProcFS.cmdline(child.pid).isEmpty, MonotonicClock.now() < until { usleep(1_000) }
        let s = try #require(ProcFS.stat(child.pid))
        #expect(s.comm == "a) b (c")
        #expect(s.ppid == getpid())
        #expect(s.startTime == ProcFS.stat(child.pid)?.startTime)
        #expect(s.startTime >= (try #require(ProcFS.stat(getpid()))).startTime)
        #expect(ProcFS.cmdline(child.pid) == [odd, "30", "0.5"])
        #expect(ProcFS.pids().contains(child.pid))
        #expect(try ProcessResolver.matches(.name("a) b (c")).map(\.pid) == [child.pid])
    }

    @Test("a command line longer than the stack buffer is read whole, and matched on its end")
    func longCmdline() throws {
        // Over 10,000 bytes of arguments: past the 4 KiB read at once, and past a doubling of it.
        let filler = String(repeating: "x", count: 5_000)
        let long = try Child(["/bin/sh", "-c", "sleep 30; : \(filler) \(filler) end-marker"])
        defer { long.stop() }
        let until = MonotonicClock.now() + 2_000_000_000
        while ProcFS.cmdline(long.pid).isEmpty, MonotonicClock.now() < until { usleep(1_000) }
        let argv = ProcFS.cmdline(long.pid)
        #expect(argv.count == 3 && argv[2].hasSuffix("end-marker") && argv[2].utf8.count > 10_000, "\(argv.map(\.count))")
        #expect(try ProcessResolver.matches(.cmdline("end-marker$")).map(\.pid) == [long.pid])
    }

    @Test("a table entry from the bytes of a command line: arguments joined by spaces, its first kept, invalid UTF-8 repaired")
    func tableEntryFromBytes() throws {
        let s = try #require(ProcFS.stat(getpid()))
        func entry(_ bytes: [UInt8]) -> ProcessTable.Entry { ProcessTable.Entry(pid: 1, stat: s, cmdline: bytes) }
        let plain = entry(Array("/usr/bin/redis-server\0*:6379\0".utf8))
        #expect(plain.argv0 == "/usr/bin/redis-server" && plain.line == Array("/usr/bin/redis-server *:6379".utf8))
        // An empty argument stays (two spaces), as a join of the arguments gives.
        #expect(entry(Array("a\0\0b\0".utf8)).line == Array("a  b".utf8))
        // A rewritten title: no final NUL.
        let title = entry(Array("postgres: checkpointer".utf8))
        #expect(title.argv0 == "postgres: checkpointer" && title.line == Array("postgres: checkpointer".utf8))
        #expect(entry([]).argv0 == nil && entry([]).line.isEmpty)
        // Invalid UTF-8 is the replacement character, as in a String: the line is always valid.
        let bad = entry([0x61, 0xFF, 0, 0xC3, 0xA9, 0])
        #expect(bad.line == Array("a\u{FFFD} é".utf8) && bad.argv0 == "a\u{FFFD}")
    }

    @Test("the table's kept descriptors: an exit drops the process, an exec under the same pid shows its new command line")
    func tableKeptDescriptors() throws {
        let child = try Child(["/bin/sh", "-c", "sleep 0.3; exec sleep 30.25"])
        defer { child.stop() }
        func line() -> String? {
            ProcessTable.since(MonotonicClock.now()).first { $0.pid == child.pid }.map { String(decoding: $0.line, as: UTF8.self) }
        }
        let until = MonotonicClock.now() + 5_000_000_000
        while line()?.hasPrefix("/bin/sh") != true, MonotonicClock.now() < until { usleep(5_000) }
        #expect(line() == "/bin/sh -c sleep 0.3; exec sleep 30.25")
        // Read through the descriptor kept from the scans above: the same process, a new image.
        while line() != "sleep 30.25", MonotonicClock.now() < until { usleep(5_000) }
        #expect(line() == "sleep 30.25")
        kill(child.pid, SIGKILL)
        _ = child.wait()
        #expect(line() == nil)
    }

    @Test("an exit is awaited on the process's pidfd: a live one times out, a killed one is seen gone")
    func awaitExit() throws {
        let child = try Child(["sleep", "30"])
        defer { child.stop() }
        let ref = try #require(ProcessResolver.matches(.pid(child.pid)).first)
        let alive = FaultEffects.awaitExit([ref], deadline: MonotonicClock.now() + 50_000_000)
        #expect(!alive.ok && alive.detail.hasPrefix("not gone before the confirm timeout"), "\(alive.detail)")
        kill(child.pid, SIGKILL)
        let gone = FaultEffects.awaitExit([ref], deadline: MonotonicClock.now() + 5_000_000_000)
        #expect(gone.ok && gone.at != nil, "\(gone.detail)")
        // A pid whose start time is not the target's is another process: gone too.
        let stale = ProcessRef(pid: getpid(), startTime: 1, name: "old")
        #expect(FaultEffects.awaitExit([stale], deadline: MonotonicClock.now() + 50_000_000).ok)
    }

    @Test("select by pid, name, cmdline and listening port")
    func selectors() throws {
        let port = freePort()
        let server = try Child.httpServer(port: port)
        defer { server.stop() }
        let byPort = try ProcessResolver.matches(.port(port))
        #expect(byPort.map(\.pid) == [server.pid])
        #expect(try ProcessResolver.matches(.pid(server.pid)).map(\.pid) == [server.pid])
        #expect(try ProcessResolver.matches(.cmdline("http\\.server \(port) ")).map(\.pid) == [server.pid])
        #expect(try ProcessResolver.matches(.name("python3")).map(\.pid).contains(server.pid))
        #expect(try ProcessResolver.matches(.port(freePort())).isEmpty)
    }

    @Test("select by pid file, and a clear error for a missing one")
    func pidFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sleeper = try Child(["sleep", "30"])
        defer { sleeper.stop() }
        try "\(sleeper.pid)\n".write(toFile: "\(dir)/s.pid", atomically: true, encoding: .utf8)
        #expect(try ProcessResolver.matches(.pidFile("\(dir)/s.pid")).map(\.pid) == [sleeper.pid])
        #expect(throws: FaultError.target("cannot read pid file '\(dir)/none.pid': No such file or directory")) {
            try ProcessResolver.matches(.pidFile("\(dir)/none.pid"))
        }
        // A file that does not start with a pid, or is not a file: said without showing it.
        try "hunter2\n\(sleeper.pid)\n".write(toFile: "\(dir)/secret.pid", atomically: true, encoding: .utf8)
        #expect(throws: FaultError.target("pid file '\(dir)/secret.pid' does not start with a process id (a number on its first line)")) {
            try ProcessResolver.matches(.pidFile("\(dir)/secret.pid"))
        }
        #expect(mkfifo("\(dir)/fifo.pid", 0o600) == 0)
        #expect(throws: FaultError.target("pid file '\(dir)/fifo.pid' is not a regular file")) {
            try ProcessResolver.matches(.pidFile("\(dir)/fifo.pid"))
        }
    }

    @Test("PID 1 and the runner itself are refused")
    func safety() {
        #expect(throws: FaultError.refused("refusing to signal PID 1 (init)")) {
            try ProcessResolver.targets(ProcessTarget(selector: .pid(1)))
        }
        #expect(throws: FaultError.refused("refusing to signal the runner itself (pid \(getpid()))")) {
            try ProcessResolver.targets(ProcessTarget(selector: .pid(getpid())))
        }
    }

    @Test("an ambiguous selection needs count or all")
    func multiplicity() throws {
        let a = try Child(["sleep", "31.5"])
        let b = try Child(["sleep", "31.5"])
        defer {
            a.stop()
            b.stop()
        }
        usleep(50_000)
        var p = ProcessTarget(selector: .cmdline("^sleep 31\\.5$"))
        #expect(throws: FaultError.self) { try ProcessResolver.targets(p) }
        p.multiplicity = .count(1)
        #expect(try ProcessResolver.targets(p).map(\.pid) == [a.pid])
        p.multiplicity = .all
        #expect(try Set(ProcessResolver.targets(p).map(\.pid)) == [a.pid, b.pid])
        p.multiplicity = .count(3)
        #expect(throws: FaultError.self) { try ProcessResolver.targets(p) }
    }

    @Test("kill: prepare, apply, confirm gone")
    func killFault() throws {
        let victim = try Child(["sleep", "32"])
        defer { victim.stop() }
        let driver = KillDriver()
        let kill = KillFault(ProcessTarget(selector: .pid(victim.pid)), signal: SIGKILL, signalName: "KILL")
        let injection = try driver.prepare(kill)
        #expect(injection.undo.isEmpty)
        try driver.apply(kill, injection)
        let c = driver.confirm(kill, injection, deadline: MonotonicClock.now() + 2_000_000_000)
        #expect(c.ok, "\(c.detail)")
    }

    @Test("kill of a process that ignores the signal is not confirmed")
    func killNotConfirmed() throws {
        let stubborn = try Child(["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"])
        defer { stubborn.stop() }
        usleep(100_000)
        let driver = KillDriver()
        let kill = KillFault(ProcessTarget(selector: .pid(stubborn.pid)))
        let injection = try driver.prepare(kill)
        try driver.apply(kill, injection)
        let c = driver.confirm(kill, injection, deadline: MonotonicClock.now() + 300_000_000)
        #expect(!c.ok)
        #expect(c.detail.hasPrefix("not gone before the confirm timeout"))
    }

    @Test("pause: stopped, then continued by the undo steps with no residue")
    func pauseFault() throws {
        let victim = try Child(["sleep", "34"])
        defer { victim.stop() }
        let driver = PauseDriver()
        let pause = PauseFault(ProcessTarget(selector: .pid(victim.pid)))
        let injection = try driver.prepare(pause)
        #expect(injection.undo.count == 1)
        try driver.apply(pause, injection)
        #expect(driver.confirm(pause, injection, deadline: MonotonicClock.now() + 1_000_000_000).ok)
        #expect(ProcFS.stat(victim.pid)?.state == "T")
        // Pausing an already stopped process is refused: continuing it later would change state we did not make.
        #expect(throws: FaultError.self) { try driver.prepare(pause) }
        let residue = try FaultEffects.revert(injection)
        #expect(residue.isEmpty)
        #expect(ProcFS.stat(victim.pid)?.state != "T")
    }

    @Test("an undo step for a process that is gone counts as done")
    func undoGone() throws {
        let victim = try Child(["sleep", "35"])
        let ref = try #require(ProcessResolver.matches(.pid(victim.pid)).first)
        victim.stop()
        try UndoStep.signal(ref, signal: SIGCONT).execute()
        #expect(UndoStep.signal(ref, signal: SIGCONT).residue() == nil)
    }
}

@Suite("clock")
struct ClockTests {
    @Test("wall-clock text is UTC ISO 8601 with milliseconds, run ids sort by time")
    func wallText() throws {
        let iso = MonotonicClock.wallISO8601()
        #expect(iso.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(iso)")
        let parsed = try #require(ISO8601DateFormatter.withFractions.date(from: iso))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
        let id = Runner.newRunId()
        #expect(id.wholeMatch(of: /\d{8}-\d{6}-[0-9a-f]{4}/) != nil, "\(id)")
        #expect(id.prefix(8) == iso.prefix(10).replacingOccurrences(of: "-", with: ""))
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}

@Suite("netlink host snapshot")
struct SnapshotTests {
    // Tests that change host network state live in the serialized end-to-end suite, so no
    // concurrent run sees their changes.
    @Test("qdiscs of this namespace are listed through libnl")
    func lists() throws {
        let (links, qdiscs) = try NetlinkRoute().linksAndQdiscs()
        #expect(links.contains("lo"))
        #expect(!qdiscs.isEmpty)
        #expect(qdiscs.contains { $0.link == "lo" })
    }

    @Test("only links present before and after are compared")
    func linksInBoth() {
        let lo = QdiscEntry(link: "lo", kind: "noqueue", handle: 0, parent: 0)
        let tbf = QdiscEntry(link: "eth0", kind: "tbf", handle: 0x10000, parent: 0xffff_ffff)
        let fresh = QdiscEntry(link: "veth9", kind: "noqueue", handle: 0, parent: 0)
        let down = QdiscEntry(link: "veth1", kind: "tbf", handle: 0x10000, parent: 0xffff_ffff)
        // veth1 was down (no qdisc) before and got one: compared. veth9 appeared: ignored.
        let before = HostSnapshot(
            links: ["lo", "eth0", "veth1"], qdiscs: [lo, QdiscEntry(link: "eth0", kind: "noqueue", handle: 0, parent: 0)])
        let after = HostSnapshot(links: ["lo", "eth0", "veth1", "veth9"], qdiscs: [lo, tbf, fresh, down])
        // A default qdisc (handle 0:) coming or going is the kernel's doing, not a fault's.
        #expect(after.differences(from: before) == ["qdisc added: tbf 1:0 on eth0", "qdisc added: tbf 1:0 on veth1"])
    }
}
