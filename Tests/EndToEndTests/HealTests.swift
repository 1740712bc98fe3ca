import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// `healed`: a killed process must be replaced by a new one. The "supervisor" here is a shell
/// loop that restarts a uniquely named sleep after a pause; without the loop nothing returns.
@Suite("self-healing (healed), end to end")
struct HealTests {
    func run(restartAfter: String?) throws -> Journal {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = "\(7_000 + Int(getpid() % 1_000)).\(Int.random(in: 100...999))"
        let script =
            restartAfter.map { "while true; do sleep \(marker); sleep \($0); done" } ?? "sleep \(marker)"
        let supervisor = try Spawned(["/bin/sh", "-c", script])
        defer {
            // Its children first: once the shell is gone they belong to PID 1, and the sleep it
            // last started would outlive the test by two hours.
            let children = descendants(of: supervisor.pid)
            supervisor.stop()
            for pid in children { kill(pid, SIGKILL) }
        }
        usleep(200_000)
        try """
        version: 1
        title: a restarted sleep
        duration: 2s
        faults:
          - name: kill-sleep
            at: 200ms
            kill: {process: {cmdline: "^sleep \(marker.replacingOccurrences(of: ".", with: "\\\\."))$"}, signal: KILL}
        expect:
          healed: {fault: kill-sleep, within: 1s}

        """.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        _ = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        return try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
    }

    @Test("a process restarted 300 ms after the kill is healed, measured from the kill")
    func restarted() throws {
        let j = try run(restartAfter: "0.3")
        let c = try #require(j.checks.first { $0.name == "healed(kill-sleep)" })
        let took = try #require(DurationText.parse(c.measured), "\(c)")
        #expect(c.passed && took >= 250_000_000 && took < 1_000_000_000, "\(c)")
        #expect(j.faults.first?.healedBy != nil)
    }

    @Test("a process nobody restarts is not healed, and the check fails")
    func notRestarted() throws {
        let j = try run(restartAfter: nil)
        let c = try #require(j.checks.first { $0.name == "healed(kill-sleep)" })
        #expect(!c.passed && c.measured == "not healed", "\(c)")
    }
}
