import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// Benchmark: the write checker over a generated history, and the history's memory.
struct BenchCheckers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-checkers", abstract: "Benchmark: lost-write and convergence check of a generated history.", shouldDisplay: false
    )

    @Option(help: "Operations in the history.") var ops = 1_000_000

    func run() {
        let before = residentKiB()
        var h = History()
        h.ops.reserveCapacity(ops)
        var primary: [String] = []
        primary.reserveCapacity(ops)
        for i in 0..<ops {
            // 4 clients, ~1 in 1000 unknown, ~1 in 200 acknowledged but lost
            let value = "c\(i % 4)-\(i / 4)"
            let outcome: History.Outcome = i % 1000 == 999 ? .unknown : .ok
            let t = Int64(i) * 1_000_000
            h.ops.append(
                History.Op(
                    client: i % 4, value: value, invokedAt: t, completedAt: t + 300_000, outcome: outcome, endpoint: "198.18.1.11:6379"))
            if i % 200 != 7 { primary.append(value) }
        }
        let recorded = residentKiB()
        h.finalPrimary = "198.18.1.12:6379"
        h.finalReads = ["198.18.1.12:6379": primary, "198.18.1.13:6379": primary, "198.18.1.11:6379": primary]
        let start = MonotonicClock.now()
        let checks = WriteChecker.checks(h, maxLost: 0, converged: true, origin: 0)
        let took = Double(MonotonicClock.now() - start) / 1e9
        print(
            String(
                format: "%d ops: lost-write + convergence check %.3f s; history %.1f MiB (%.0f bytes/op); %@", ops, took,
                Double(recorded - before) / 1024, Double(recorded - before) * 1024 / Double(ops),
                checks.map { "\($0.name)=\($0.measured)" }.joined(separator: " ")))
    }

    /// VmRSS of this process in KiB.
    func residentKiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
