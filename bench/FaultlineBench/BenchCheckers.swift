import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation
import Glibc

/// Benchmark: the write checker over a generated history, and the history's memory.
struct BenchCheckers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkers", abstract: "Lost-write and convergence check of a generated history; linearizability searches."
    )

    @Option(help: "Operations in the history.") var ops = 1_000_000
    @Option(help: "Operations in the register history for the linearizability check.") var registerOps = 100_000
    @Option(help: "Keys of the register history.") var keys = 10
    @Option(help: "Concurrent clients of the register history.") var clients = 4
    @Option(help: "Repetitions of each check (min/median/max are printed).") var repeats = 5

    func run() {
        writeCheck()
        linearizability()
    }

    func writeCheck() {
        let before = Self.residentKiB()
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
        let recorded = Self.residentKiB()
        h.finalPrimary = "198.18.1.12:6379"
        h.finalReads = ["198.18.1.12:6379": primary, "198.18.1.13:6379": primary, "198.18.1.11:6379": primary]
        var (took, checks) = timed { Self.writeChecks(h) }
        print(
            String(
                format: "%d ops: lost-write + convergence check %@ s; history %.1f MiB (%.0f bytes/op); %@", ops, took,
                Double(recorded - before) / 1024, Double(recorded - before) * 1024 / Double(ops),
                checks.map { "\($0.name)=\($0.measured)" }.joined(separator: " ")))
        // Replicas that return the same values in another order (SELECT without ORDER BY)
        // take the set comparison instead of the equal-arrays shortcut.
        h.finalReads["198.18.1.13:6379"] = primary.reversed()
        h.finalReads["198.18.1.11:6379"] = primary.reversed()
        (took, checks) = timed { Self.writeChecks(h) }
        print(
            String(
                format: "%d ops, replicas in another order: lost-write + convergence check %@ s; %@", ops, took,
                checks.map { "\($0.name)=\($0.measured)" }.joined(separator: " ")))
    }

    /// `lost_writes: 0` and `converged: true`, judged as a run judges them.
    static func writeChecks(_ h: History) -> [CheckResult] {
        let expectations = [Expectation(LostWritesExpectation(max: 0)), Expectation(ConvergedExpectation(true))]
        return ExpectationChecker.check(expectations, RunEvidence(phase: 0..<0, history: h))
    }

    /// Runs `body` `repeats` times; "min/median/max" in seconds, and the last result.
    func timed<T>(_ body: () -> T) -> (String, T) {
        var times: [Double] = []
        var last: T?
        for _ in 0..<max(1, repeats) {
            let start = MonotonicClock.now()
            last = body()
            times.append(Double(MonotonicClock.now() - start) / 1e9)
        }
        times.sort()
        return (String(format: "%.3f/%.3f/%.3f", times[0], times[times.count / 2], times[times.count - 1]), last!)
    }

    /// A linearizable register history with real concurrency: each client issues an operation
    /// every millisecond that takes 0.1 to 2 ms, taking effect at a random instant inside it;
    /// reads return what the register held at that instant. Then one read is made stale.
    func linearizability() {
        var random: UInt64 = 42
        func next() -> UInt64 {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        struct Pending {
            var index: Int
            var at: Int64
        }
        var ops: [History.Op] = []
        ops.reserveCapacity(registerOps)
        var effects: [Pending] = []
        for i in 0..<registerOps {
            let client = i % clients
            let invoked = Int64(i / clients) * 1_000_000 + Int64(next() % 500_000)
            let latency = 100_000 + Int64(next() % 1_900_000)
            let key = "k\(next() % UInt64(keys))"
            let read = next() % 2 == 0
            ops.append(
                History.Op(
                    client: client, kind: read ? .read : .write, key: key, value: read ? "" : "v\(i)", invokedAt: invoked,
                    completedAt: invoked + latency, outcome: .ok, endpoint: "p1"))
            effects.append(Pending(index: i, at: invoked + Int64(next() % UInt64(latency))))
        }
        effects.sort { $0.at < $1.at }
        var register: [String: String] = [:]
        for e in effects {
            if ops[e.index].kind == .write {
                register[ops[e.index].key] = ops[e.index].value
            } else {
                ops[e.index].value = register[ops[e.index].key] ?? ""
            }
        }
        let (took, ok) = timed { LinearizabilityChecker.check(ops, budget: 60_000_000_000, now: MonotonicClock.now) }
        print(
            String(
                format: "%d register ops on %d keys, %d clients: linearizability check %@ s: %@", registerOps, keys, clients, took,
                "\(ok.verdict)".prefix(60).description))
        // The last read of a key returns that key's first written value instead.
        if let r = ops.lastIndex(where: { $0.kind == .read && !$0.value.isEmpty }),
            let first = ops.first(where: { $0.kind == .write && $0.key == ops[r].key && $0.value != ops[r].value })
        {
            ops[r].value = first.value
            let (took, bad) = timed { LinearizabilityChecker.check(ops, budget: 60_000_000_000, now: MonotonicClock.now) }
            let verdict: String
            if case .notLinearizable(let key, _, _) = bad.verdict {
                verdict = "not linearizable (key \(key))"
            } else {
                verdict = "\(bad.verdict)"
            }
            print(
                String(
                    format: "same history with one stale read: linearizability check %@ s: %@", took, verdict))
        }
    }

    /// VmRSS of this process in KiB.
    static func residentKiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
