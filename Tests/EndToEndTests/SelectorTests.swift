import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// Selectors against hostile command lines, through the built binary.
@Suite("selectors, end to end", .serialized)
struct SelectorTests {
    @Test("a backtracking pattern meets a matching command line while a pause holds: the pause ends on time")
    func backtrackingDuringPause() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = "fl\(getpid())x"
        // The pause's target, and two command lines for the kill's selector: one it matches (its
        // target), one that backtracking engines take 2^n steps to refuse — 40 a's and a '!'
        // (ICU took 12 s for 34; each a doubles it).
        let paused = try Child(["/bin/sh", "-c", "sleep 600; : \(marker)-paused"])
        let target = try Child(["/bin/sh", "-c", "sleep 600; : \(marker)-aaaa"])
        let hostile = try Child(["/bin/sh", "-c", "sleep 600; : \(marker)-\(String(repeating: "a", count: 40))!"])
        defer { for c in [paused, target, hostile] { c.stop() } }
        let until = MonotonicClock.now() + 2_000_000_000
        while [paused, target, hostile].contains(where: { ProcFS.cmdline($0.pid).count < 3 }), MonotonicClock.now() < until {
            usleep(1_000)
        }
        try """
        version: 1
        title: a backtracking selector during a pause
        duration: 2500ms
        faults:
          - {name: hold, at: 200ms, duration: 1s, pause: {process: {cmdline: "\(marker)-paused$"}}}
          - {name: nested, at: 600ms, kill: {process: {cmdline: "\(marker)-(a+)+$"}, signal: KILL}}
        """.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let out = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        let hold = try #require(j.faults.first { $0.name == "hold" })
        let nested = try #require(j.faults.first { $0.name == "nested" })
        #expect(nested.confirmed && nested.detail?.contains("\(target.pid)") == true, "\(nested)")
        #expect(!target.isRunning && hostile.isRunning, "the kill took its target only")
        let reverted = try #require(hold.revertedAt)
        // Correctness bound: due to end 1 s after its scheduled instant, it ended within a second
        // of that. ICU's backtracking needed 2^40 steps here (12 s for 34 a's, doubling with
        // each); the linear engine needs microseconds, and the rest of the bound is room for a
        // loaded machine (a concurrent build once made it 300 ms late), not for the selection.
        let due = hold.scheduledAt + 1_000_000_000
        print("pause reverted \(DurationText.format(reverted - due)) after it was due")
        #expect(reverted >= due && reverted < due + 1_000_000_000, "reverted \(reverted - due) ns after it was due")
        #expect(j.durationNs < 4_000_000_000, "the run took \(j.durationNs) ns")
        #expect(processState(paused.pid) != "T")
    }
}
