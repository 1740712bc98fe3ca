import Foundation
import Testing

@testable import FaultlineCore

/// The blast-radius and quorum guard on plans read from text: what each instant takes, and what
/// is refused where the file wrote it.
@Suite("blast radius and quorum guard")
struct BlastGuardTests {
    /// A five-host lab (n1…n5, groups a: n1 n2, b: n3 n4 n5) with `faults` and `safety`.
    func load(_ faults: String, safety: String = "", quorums: String = "") throws -> Result<Experiment, ValidationFailure> {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var lab = "lab: five\nsubnet: 198.18.215.0/24\n\(quorums)hosts:\n"
        for i in 1...5 { lab += "  n\(i): {address: 198.18.215.\(10 + i), group: \(i <= 2 ? "a" : "b")}\n" }
        try lab.write(toFile: "\(dir)/five.yaml", atomically: true, encoding: .utf8)
        let text = "version: 1\ntitle: t\nlab: five.yaml\nduration: 20s\nfaults:\n\(faults)\n\(safety)"
        do {
            return .success(try ExperimentLoader.load(text: text, file: "\(dir)/e.yaml", labDataRoot: dir))
        } catch let f as ValidationFailure {
            return .failure(f)
        }
    }

    func problems(_ r: Result<Experiment, ValidationFailure>) -> [String] {
        guard case .failure(let f) = r else { return [] }
        return f.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }
    }

    func temporaryFolder() throws -> String {
        let dir = NSTemporaryDirectory() + "guard-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a majority kill of a lab's quorum is refused at the fault that makes it, with the arithmetic; intended, it is allowed")
    func majorityKill() throws {
        let faults = """
              - {name: k1, at: 1s, kill: {host: n1, process: x}}
              - {name: k2, at: 2s, kill: {host: n2, process: x}}
              - {name: k3, at: 3s, kill: {host: n3, process: x}}
            """
        let q = "quorums:\n  raft: [n1, n2, n3, n4, n5]\n"
        // Kills are not undone: each counts to the end. Two of five leave three, a majority;
        // the third kill leaves two.
        #expect(
            problems(try load(faults, quorums: q)) == [
                "8:5: fault 'k3' at 3s takes too much: 3 of the 5 hosts of quorum 'raft' taken at once (n1 by 'k1', n2 by 'k2', n3 by 'k3'): 2 left, a majority is 3; write 'safety: {quorum_loss: intended}' if the experiment means to lose it"
            ])
        let e = try load(faults, safety: "safety: {quorum_loss: intended}", quorums: q).get()
        let plan = Plan(e).render()
        #expect(plan.contains("+3s\tk3: 3 hosts faulted (n1, n2, n3); raft 3 of 5, 2 left < 3\n"), "\(plan)")
        // A kill blamed for a window (its duration) counts only within it.
        let windowed = faults.replacingOccurrences(of: "at: 1s,", with: "at: 1s, duration: 1500ms,")
        #expect(problems(try load(windowed, quorums: q)).isEmpty)
    }

    @Test("a partition takes the hosts cut off from a quorum's largest connected part; isolating one of three does not lose it")
    func partitions() throws {
        let q = "quorums:\n  raft: [n1, n2, n3]\n"
        #expect(problems(try load("  - {name: cut, at: 1s, duration: 2s, partition: {isolate: n1}}", quorums: q)).isEmpty)
        // n1 and n2 each alone: no two of the three still reach each other.
        let two = "  - {name: cut, at: 1s, duration: 2s, partition: {groups: [[n1], [n2], [n3, n4, n5]]}}"
        let p = problems(try load(two, quorums: q))
        // Any one of the three is the largest part left; the other two are taken.
        #expect(p.count == 1 && p[0].contains("2 of the 3 hosts of quorum 'raft' taken at once (n2 by 'cut', n3 by 'cut'): 1 left"), "\(p)")
        // With a pause of n3, isolating n1 leaves only n2.
        let both = """
              - {name: cut, at: 1s, duration: 2s, partition: {isolate: n1}}
              - {name: freeze, at: 2s, duration: 2s, pause: {host: n3, process: x}}
            """
        #expect(problems(try load(both, quorums: q)).first?.contains("fault 'freeze' at 2s takes too much: 2 of the 3") == true)
    }

    @Test("max_hosts and max_share count every fault holding at once, a slowed host too; a slow quorum member still votes")
    func limits() throws {
        let faults = """
              - {name: slow, at: 1s, duration: 5s, network: {host: n3, delay: 50ms}}
              - {name: p1, at: 2s, duration: 1s, pause: {host: n4, process: x}}
              - {name: p2, at: 4s, duration: 1s, pause: {host: n5, process: x}}
            """
        #expect(problems(try load(faults, safety: "safety: {max_hosts: 2}")).isEmpty, "p1 and p2 never overlap")
        let p = problems(try load(faults, safety: "safety: {max_hosts: 1}"))
        #expect(
            p == [
                "7:5: fault 'p1' at 2s takes too much: 2 hosts faulted at once (n3 by 'slow', n4 by 'p1'); 'safety.max_hosts' is 1",
                "8:5: fault 'p2' at 4s takes too much: 2 hosts faulted at once (n3 by 'slow', n5 by 'p2'); 'safety.max_hosts' is 1",
            ], "\(p)")
        let share = problems(try load(faults, safety: "safety: {max_share: 50%}"))
        #expect(share.count == 2 && share[0].contains("2 of the 3 hosts of group 'b' faulted at once"), "\(share)")
        // A delay on all three members of a quorum slows it; it does not take it.
        let slowAll = (3...5).map { "  - {name: s\($0), at: 1s, duration: 5s, network: {host: n\($0), delay: 50ms}}" }.joined(
            separator: "\n")
        #expect(problems(try load(slowAll, quorums: "quorums:\n  q: [n3, n4, n5]\n")).isEmpty)
    }

    @Test("bad safety input is refused with FILE:LINE:COL: unknown keys, hosts that do not exist, a quorum of one")
    func badInput() throws {
        let f = "  - {name: k1, at: 1s, kill: {host: n1, process: x}}"
        #expect(
            problems(try load(f, safety: "safety: {max_host: 2}")).first?.contains(
                "unknown key 'max_host' in 'safety' (did you mean 'max_hosts'?)") == true)
        #expect(problems(try load(f, safety: "safety: {quorum_loss: yes}")).first?.contains("must be 'intended'") == true)
        let zero = problems(try load(f, safety: "safety: {max_share: 0%}"))
        #expect(zero.first?.contains("must be more than 0%") == true, "\(zero)")
        let unknown = problems(try load(f, safety: "safety: {quorums: {q: [n1, n9]}}"))
        #expect(
            unknown == ["7:23: 'safety.quorums.q' names 'n9', which is not a host of the experiment (did you mean 'n1'?)"], "\(unknown)")
        #expect(problems(try load(f, safety: "safety: {quorums: {q: [n1]}}")).first?.contains("at least two distinct hosts") == true)
        let lab = problems(try load(f, quorums: "quorums:\n  q: [n1, m2]\n"))
        #expect(lab.contains { $0.contains("'quorums.q' names 'm2', which is not a host of the lab") }, "\(lab)")
    }

    @Test("the guard's cost is counted without doing the work: each instant's active faults plus the hosts it checks")
    func cost() throws {
        let faults = """
              - {name: a, at: 1s, duration: 10s, pause: {host: n1, process: x}}
              - {name: b, at: 2s, duration: 1s, pause: {host: n2, process: x}}
              - {name: c, at: 5s, kill: {host: n3, process: x}}
            """
        let e = try load(faults, safety: "safety: {max_hosts: 4}").get()
        let g = BlastGuard(e)
        // Instants 1 s (a), 2 s (a, b), 5 s (a, c): 1 + 2 + 2 faults; each instant also checks the
        // 5 lab hosts and the hosts of groups a (2) and b (3).
        #expect(g.cost(e) == (1 + 2 + 2) + 3 * (5 + 2 + 3))
        #expect(g.instants(e).map(\.starting) == [["a"], ["b"], ["c"]])
        #expect(g.instants(e).map { $0.evaluation.taken.keys.sorted() } == [["n1"], ["n1", "n2"], ["n1", "n3"]])
    }

    @Test("largest connected part: exact up to twelve members, the largest component beyond")
    func largest() {
        let ring = ["a": ["c"], "c": ["a"]]
        #expect(BlastGuard.largestConnected(["a", "b", "c"], ring).count == 2)
        #expect(BlastGuard.largestConnected(["a", "b", "c"], [:]) == ["a", "b", "c"])
        let many = (0..<20).map { "h\($0)" }
        let cut = Dictionary(uniqueKeysWithValues: many.prefix(5).map { ($0, Array(many.dropFirst(5))) })
        #expect(BlastGuard.largestConnected(many, cut).count == 15)
    }
}
