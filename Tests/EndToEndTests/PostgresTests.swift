import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The shipped PostgreSQL replication experiments, run as a user would, in their labs.
@Suite(
    "PostgreSQL replication experiments", .serialized,
    .enabled(if: getuid() == 0, "needs root to create network namespaces"),
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/postgres"),
        "needs postgresql-15 (scripts/install-deps.sh)"))
struct PostgresTests {

    /// The checks of a slow-standby run: each passed, with the figures it measured.
    func slowStandby(_ file: String) throws -> [String: CheckResult] {
        let (out, j, dir) = try ShippedExperiment.run(file)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let f = try #require(j.faults.first)
        #expect(f.confirmed && f.preflight?.hasPrefix("engine ") == true && f.measured?.contains("held median 50") == true, "\(f)")
        #expect(j.residue.isEmpty, "\(j.residue)")
        for c in j.checks { #expect(c.passed, "\(c.name): \(c.measured) (\(c.evidence ?? ""))") }
        return Dictionary(j.checks.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("a slow link to a synchronous standby: every commit waits the added 50 ms, and the standby's lag rises")
    func synchronousSlowStandby() throws {
        let c = try slowStandby("postgres-sync-slow-standby.yaml")
        // About the 50 ms added (a commit waits one trip to the standby): "+50.12ms", or "+50ms"
        // when the figure is round, or a hair under; a prefix of "+50." was too exact.
        let added = try #require(c["added_latency(workload, p50 during slow-standby)"], "\(c.keys)")
        let ms = added.measured.firstMatch(of: /^\+([0-9.]+)ms/).flatMap { Double($0.1) }
        #expect(ms.map { (45...60).contains($0) } == true, "\(added.measured)")
        #expect(c["added_value(lag, p50 during slow-standby)"] != nil && c["lost_writes"]?.measured == "0")
    }

    @Test("a slow link to an asynchronous standby: commits do not wait; the standby falls behind by the added delay")
    func asynchronousSlowStandby() throws {
        let c = try slowStandby("postgres-async-slow-standby.yaml")
        let latency = try #require(c["added_latency(workload, p50 during slow-standby)"])
        #expect(latency.expected == "added ≤ 10ms", "\(latency)")
        #expect(c["added_value(lag, p50 during slow-standby)"]?.passed == true)
    }

    @Test("postgres-disk-full: while its data disk is full, writes fail; none acknowledged is lost; writes resume once space is freed")
    func diskFull() throws {
        let (out, j, dir) = try ShippedExperiment.run("postgres-disk-full.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let f = try #require(j.faults.first)
        #expect(f.confirmed && f.confirmation?.contains("1 MiB free of 96 MiB on /run/pg") == true, "\(f)")
        let w = try #require(j.workload)
        // The effect where the application sees it: writes refused while the disk was full,
        // and every acknowledged one read back at the end.
        #expect(w.failed > 0 && w.acknowledged > 500 && w.lostCount == 0, "\(w)")
        #expect(j.checks.allSatisfy { $0.passed }, "\(j.checks)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("synchronous standby: the primary dies, the standby is promoted, no committed row is lost")
    func synchronous() throws {
        let (out, j, dir) = try ShippedExperiment.run("postgres-sync-failover.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.first?.confirmed == true)
        #expect(j.actions.allSatisfy { $0.ok }, "\(j.actions)")
        let w = try #require(j.workload)
        // Writes went to n1, then (after the promotion) to n2; none acknowledged was lost.
        #expect(w.acknowledged > 500 && w.lostCount == 0, "\(w)")
        #expect(w.finalPrimary?.contains("198.18.4.12") == true)
        #expect(j.checks.contains { $0.name == "lost_writes" && $0.passed && $0.measured == "0" })
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
        // PostgreSQL's own lines: the promote request after the operator's action started,
        // the new timeline after it; the failover broken down by them.
        let markers = j.markers ?? []
        let asked = try #require(markers.first { $0.name == "promote-requested" && $0.source == "n2:postgres" }, "\(markers)")
        let timeline = try #require(markers.first { $0.name == "new-timeline" }, "\(markers)")
        let action = try #require(j.actions.first { $0.name == "promote-n2" }?.startedAt)
        #expect(asked.at + asked.uncertaintyNs! >= action && timeline.at >= asked.at, "action at \(action): \(markers)")
        let parts = ["detect", "promote", "recover"].compactMap { p in
            j.checks.first { $0.name == "recovery_time(workload, after kill-primary).\(p)" }
        }
        #expect(parts.count == 3 && parts.allSatisfy(\.passed), "\(parts)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/reports/latest/logs/n2/postgres.log"))
        #expect(try journalSchemaComplaint("\(dir)/reports/latest/journal.json") == nil)
    }

    @Test("reads from an asynchronous standby whose replay is paused: stale reads and a non-linearizable history")
    func standbyStaleReads() throws {
        let (out, j, dir) = try ShippedExperiment.run("postgres-standby-stale-reads.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 1, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.first?.confirmed == true)
        let stale = try #require(j.checks.first { $0.name == "stale_reads" })
        #expect(!stale.passed && (Int(stale.measured) ?? 0) > 0, "\(stale)")
        #expect(stale.evidence?.contains("from 198.18.5.12:5432") == true, "\(stale)")
        #expect(j.checks.contains { $0.name == "linearizable" && $0.measured == "false" })
        // Once the replay resumes, the standby catches up.
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("asynchronous standby cut off before the primary dies: the window's commits are lost, and shown")
    func asynchronous() throws {
        let (out, j, dir) = try ShippedExperiment.run("postgres-async-loss-window.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let w = try #require(j.workload)
        // The standby was cut off 1 s before the kill, at 200 writes/s: about 200 lost, all
        // acknowledged by the old primary, spanning about that second.
        #expect(w.lostCount >= 100 && w.lostCount <= 300, "\(w.lostCount)")
        #expect(w.lost.allSatisfy { $0.endpoint == "198.18.5.11:5432" })
        #expect(w.rpoNs > 700_000_000 && w.rpoNs < 1_300_000_000, "\(w.rpoNs)")
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
