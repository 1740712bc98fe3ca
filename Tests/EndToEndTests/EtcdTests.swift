import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The shipped etcd (Raft) experiments, run as a user would, in their lab. They share the lab's
/// name (fl-etcd), so they run one after another.
@Suite(
    "etcd Raft experiments", .serialized,
    .enabled(if: getuid() == 0, "needs root to create network namespaces"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd"), "needs etcd-server (scripts/install-deps.sh)"))
struct EtcdTests {
    @Test("the leader isolated on slow links: a new leader after an election timeout, registers linearizable")
    func leaderIsolated() throws {
        let (out, j, dir) = try ShippedExperiment.run("etcd-leader-isolated.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.count == 4 && j.faults.allSatisfy { $0.confirmed && $0.revertedAt != nil }, "\(j.faults)")
        // The role was resolved to a member when the fault fired, and that member was cut off.
        let cut = try #require(j.faults.first { $0.name == "isolate-leader" })
        #expect(["isolate e1", "isolate e2", "isolate e3"].contains(cut.target), "\(cut.target)")
        // No follower may campaign before its election timeout (1 s, less the last heartbeat's
        // 100 ms): a recovery sooner than that would not be a Raft election.
        let rto = try #require(j.checks.first { $0.name.hasPrefix("recovery_time") })
        #expect(rto.passed, "\(rto)")
        let latest = try #require(DurationText.parse(rto.measured))
        #expect(latest >= 900_000_000, "\(rto)")
        // etcd's own lines break the failover down: a campaign after the cut, then a leader.
        let markers = j.markers ?? []
        #expect(markers.contains { $0.name == "election" } && markers.contains { $0.name == "leader" }, "\(markers.map(\.name))")
        #expect(markers.allSatisfy { $0.uncertaintyNs == 1_000_000 && $0.at > 0 }, "\(markers)")
        let parts = ["detect", "promote", "recover"].compactMap { p in j.checks.first { $0.name == "\(rto.name).\(p)" } }
        #expect(parts.count == 3 && parts.allSatisfy(\.passed), "\(parts)")
        #expect(try #require(parts.first?.value?.lower) >= 0.9, "no campaign before the election timeout: \(parts)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/reports/latest/logs/e1/etcd.log"))
        #expect(try journalSchemaComplaint("\(dir)/reports/latest/journal.json") == nil)
        // At least one election: the highest term rose.
        let terms = try #require(j.probes.first { $0.probe == "term" }?.values).compactMap { $0 }
        #expect((terms.max() ?? 0) > (terms.first ?? .infinity), "\(terms)")
        for name in ["linearizable", "stale_reads", "converged"] {
            let c = try #require(j.checks.first { $0.name == name }, "\(name) missing")
            #expect(c.passed, "\(c)")
        }
        let lin = try #require(j.checks.first { $0.name == "linearizable" })
        let ops = lin.evidence.flatMap { Int($0.split(separator: " ")[0]) } ?? 0
        #expect(ops >= 200, "\(lin)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("serializable reads from the isolated member: stale reads and a non-linearizable history, named")
    func serializableStale() throws {
        let (out, j, dir) = try ShippedExperiment.run("etcd-serializable-stale-reads.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 1, "\(out.stdout)\(out.stderr)")
        let stale = try #require(j.checks.first { $0.name == "stale_reads" })
        #expect(!stale.passed && (Int(stale.measured) ?? 0) > 0, "\(stale)")
        let lin = try #require(j.checks.first { $0.name == "linearizable" })
        #expect(!lin.passed && lin.measured == "false" && lin.evidence?.contains("no order explains the read") == true, "\(lin)")
        // The reads that broke it came from the member that was cut off.
        let cut = try #require(j.faults.first { $0.name == "isolate-leader" })
        let member = try #require(
            ["e1": "198.18.8.11", "e2": "198.18.8.12", "e3": "198.18.8.13"].first { cut.target == "isolate \($0.key)" })
        #expect(stale.evidence?.contains(member.value) == true, "\(stale) \(cut.target)")
        #expect(j.checks.first { $0.name == "converged" }?.passed == true)
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
