import FaultlineCore
import FaultlineTestSupport
import Foundation
import Testing

/// The quorum guard on the shipped labs, as `faultline validate` and `plan` show it: nothing
/// is brought up (the refusal comes before anything runs).
@Suite("the quorum guard on the etcd and Redis labs")
struct GuardTests {
    /// Validates an experiment on `lab` that kills the service on two of its three hosts.
    func majorityKill(lab: String, hosts: [String], process: String, intent: Bool) throws -> FaultlineBinary.Output {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = """
            version: 1
            title: a majority kill on \(lab)
            lab: \(ShippedExperiment.root)/experiments/labs/\(lab).yaml
            duration: 10s
            faults:
              - {name: first, at: 1s, kill: {host: \(hosts[0]), process: \(process)}}
              - {name: second, at: 2s, kill: {host: \(hosts[1]), process: \(process)}}
            \(intent ? "safety: {quorum_loss: intended}" : "")
            """
        try text.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let validate = try FaultlineBinary.run(["validate", "e.yaml"], in: dir)
        guard intent, validate.status == 0 else { return validate }
        return try FaultlineBinary.run(["plan", "e.yaml"], in: dir)
    }

    @Test(
        "a kill of two of three members is refused where the second kill is written, and allowed when the experiment intends it",
        arguments: [("etcd", ["e1", "e2"], "etcd", "raft"), ("redis-sentinel", ["n1", "n2"], "redis-server", "sentinels")])
    func refusedThenAllowed(_ lab: String, _ hosts: [String], _ process: String, _ quorum: String) throws {
        let refused = try majorityKill(lab: lab, hosts: hosts, process: process, intent: false)
        #expect(refused.status == ExitCode.badInput, "\(refused.stdout)\(refused.stderr)")
        #expect(
            refused.stderr.contains(
                "e.yaml:7:5: fault 'second' at 2s takes too much: 2 of the 3 hosts of quorum '\(quorum)' taken at once (\(hosts[0]) by 'first', \(hosts[1]) by 'second'): 1 left, a majority is 2"
            ), "\(refused.stderr)")
        let allowed = try majorityKill(lab: lab, hosts: hosts, process: process, intent: true)
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        #expect(
            allowed.stdout.contains("quorum \(quorum) [\(lab == "etcd" ? "e1, e2, e3" : "n1, n2, n3")] needs 2; quorum loss intended"),
            "\(allowed.stdout)")
        #expect(
            allowed.stdout.contains("+2s\tsecond: 2 hosts faulted (\(hosts[0]), \(hosts[1])); \(quorum) 2 of 3, 1 left < 2"),
            "\(allowed.stdout)")
    }
}
