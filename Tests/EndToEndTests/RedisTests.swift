import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The shipped Redis Sentinel experiments, run as a user would, in their lab.
@Suite(
    "Redis Sentinel experiments", .serialized,
    .enabled(if: getuid() == 0, "needs root to create network namespaces"),
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-sentinel"),
        "needs redis-server and redis-sentinel (scripts/install-deps.sh)"))
struct RedisTests {

    func measured(_ j: Journal, _ prefix: String) throws -> Int64 {
        let c = try #require(j.checks.first { $0.name.hasPrefix(prefix) })
        return try #require(DurationText.parse(c.measured), "\(c)")
    }

    @Test("killing the primary: Sentinel fails over, the journal records the failover time")
    func failover() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-sentinel-failover.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.first?.confirmed == true && j.faults.first?.host == "n1")
        // down-after-milliseconds is 1 s: a failover faster than that would be a wrong measurement
        let failover = try measured(j, "recovery_time")
        #expect(failover > 1_000_000_000 && failover <= 10_000_000_000, "\(failover)")
        // The writers saw the same failover: their first streak of acknowledgements after it.
        let writes = try measured(j, "recovery_time(workload")
        #expect(writes > 1_000_000_000 && writes <= 10_000_000_000, "\(writes)")
        // Two instruments, one event: the probe (every 50 ms) and the writers (every 10 ms per
        // client) ask the same two Sentinels, so each one's bracket holds the instant both
        // Sentinels name a writable primary, and the brackets meet. (Asked of different
        // Sentinels they need not: one Sentinel learns of the switch after another.)
        let probe = try #require(j.checks.first { $0.name == "recovery_time(primary-writable, after kill-primary)" }?.value)
        let writers = try #require(j.checks.first { $0.name == "recovery_time(workload, after kill-primary)" }?.value)
        #expect(max(probe.lower!, writers.lower!) <= min(probe.upper!, writers.upper!), "probe \(probe), writers \(writers)")
        // And the probe's bracket holds the writers' figure (their streak's first success, 10 ms
        // apart, ends sooner after the switch than the probe's two round trips).
        #expect(probe.lower! <= writers.value && writers.value <= probe.upper!, "probe \(probe), writers \(writers)")
        // Writes moved from the old primary to the one Sentinel promoted; every operation is
        // accounted for. Loss is measured, not judged: Redis promises nothing about it.
        let w = try #require(j.workload)
        #expect(w.acknowledged > 1_000, "\(w)")
        #expect(w.acknowledgedBy?["198.18.1.11:6379"].map { $0 > 100 } == true, "\(w)")
        #expect((w.acknowledgedBy ?? [:]).count >= 2, "\(w)")
        #expect(w.acknowledged + w.failed + w.unknown == w.operations, "\(w)")
        #expect(w.finalPrimary != "198.18.1.11:6379")
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/labs/redis"))
        // The journal holds to its published schema (docs/journal.schema.json).
        #expect(try journalSchemaComplaint("\(dir)/reports/latest/journal.json") == nil)
        // One clock: every instant in it, wherever it sits, lies within the run on its clock.
        let offClock = try instantsOffTheRunClock("\(dir)/reports/latest/journal.json")
        #expect(offClock.isEmpty, "\(offClock.prefix(20))")
        // Sentinel's own account: each marker is at the instant its log line says, to the
        // millisecond, read here from the saved logs with a parser of the test's own.
        let markers = j.markers ?? []
        for name in ["sdown", "odown", "promoted", "switch-master"] {
            #expect(markers.contains { $0.name == name }, "\(name) missing from \(markers.map(\.name))")
        }
        let origin = try #require(journalInstant(j.startedAt))
        let redisTime = Self.redisFormatter()
        var lines = 0
        for host in ["n1", "n2", "n3"] {
            let log = try String(contentsOfFile: "\(dir)/reports/latest/logs/\(host)/sentinel.log", encoding: .utf8)
            for line in log.split(separator: "\n")
            where ["+odown master mymaster", "+promoted-slave slave", "+switch-master mymaster"].contains(where: { line.contains($0) }) {
                let stamp = try #require(line.split(separator: " ", maxSplits: 1).last?.prefix(24), "\(line)")
                let t = try #require(redisTime.date(from: String(stamp)), "\(line)")
                let expected = Int64((t.timeIntervalSince(origin) * 1e9).rounded())
                guard expected > 0 else { continue }
                lines += 1
                // Lab hosts have PID namespaces of their own: one line can appear in two logs.
                let m = try #require(markers.first { $0.line == String(line) && $0.source == "\(host):sentinel" }, "no marker for \(line)")
                // startedAt is written to the millisecond: 1 ms of it, 1 ms of the line's.
                #expect(
                    abs(m.at - expected) <= 2_000_000 && m.uncertaintyNs == 1_000_000 && m.source == "\(host):sentinel",
                    "\(m) vs \(expected)")
            }
        }
        #expect(lines >= 2 && lines == markers.filter { $0.name != "sdown" }.count, "\(lines) lines, \(markers.count) markers")
        // The failover broken down by them: detect, promote, recover, adding up to the whole.
        let parts = ["detect", "promote", "recover"].compactMap { p in
            j.checks.first { $0.name == "recovery_time(workload, after kill-primary).\(p)" }
        }
        #expect(parts.count == 3 && parts.allSatisfy(\.passed), "\(j.checks.map(\.name))")
        let detect = try #require(parts.first?.value)
        #expect(detect.unit == "s" && detect.lower! >= 1.0 && detect.upper! < 3, "down-after-milliseconds is 1 s: \(detect)")
        let whole = try #require(j.checks.first { $0.name == "recovery_time(workload, after kill-primary)" }?.value)
        let sum = parts.compactMap(\.value?.upper).reduce(0, +)
        #expect(sum >= whole.upper! - 0.000_001 && parts.compactMap(\.value?.lower).reduce(0, +) <= whole.upper!, "\(parts) vs \(whole)")
        // What a reader's browser draws of the run: the kill's window on the timeline, the
        // probes' and the writers' outcomes beneath it, and nothing fetched or failed.
        let view = try BrowserView.open("\(dir)/reports/latest/report.html", screenshot: ShippedExperiment.screenshot("redis-failover"))
        #expect(view.requests.isEmpty && view.errors.isEmpty, "\(view.requests) \(view.errors)")
        #expect(view.facts.verdict == "PASSED" && view.facts.timeline && view.facts.scripts == 0, "\(view.facts)")
        #expect(view.facts.faultWindows == ["kill-primary"] && view.facts.faultBars == ["kill-primary"], "\(view.facts)")
        #expect(view.facts.outcomes.contains("198.18.1.11:6379") && view.facts.latency.contains("workload"), "\(view.facts)")
        #expect(view.facts.eventTicks > 0 && view.facts.failedChecks.isEmpty && !view.facts.overflow, "\(view.facts)")
        #expect(view.facts.markers.count == markers.count, "\(view.facts.markers)")
        // Both reports show the failover's parts.
        for file in ["report.html", "report.md"] {
            let text = try String(contentsOfFile: "\(dir)/reports/latest/\(file)", encoding: .utf8)
            for p in ["detect", "promote", "recover"] {
                // Markdown escapes the underscore.
                let name = "recovery\(file == "report.md" ? "\\_" : "_")time(workload, after kill-primary).\(p)"
                #expect(text.contains(name), "\(file) lacks \(name)")
            }
        }
        #expect(view.facts.markers.contains { $0.contains("switch-master") }, "\(view.facts.markers)")
    }

    /// Redis's log time (`07 Dec 2026 22:37:01.123`), local as Redis writes it.
    static func redisFormatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = "dd MMM yyyy HH:mm:ss.SSS"
        return f
    }

    @Test("two regions 40 ms apart, the primary's region dark: the other region takes over, the failover measured")
    func regionOutage() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-region-outage.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        // The regions' latency held the whole run, confirmed and measured on each host.
        for name in ["east-to-west", "west-to-east-n2", "west-to-east-n3"] {
            let f = try #require(j.faults.first { $0.name == name })
            #expect(f.confirmed && f.confirmation?.contains("delay 20ms asked") == true, "\(f)")
            #expect(f.measured?.contains("held median 20.") == true, "\(f.measured ?? "")")
        }
        let dark = try #require(j.faults.first { $0.name == "east-dark" })
        #expect(dark.detail?.contains("n1: nft table") == true && dark.detail?.contains("drops every packet not from loopback") == true)
        #expect(dark.confirmed && j.events.contains { $0.what == "healed east-dark" })
        let failover = try measured(j, "recovery_time(workload")
        #expect(failover > 1_000_000_000 && failover <= 10_000_000_000, "\(failover)")
        // Writes ended at a west primary: during the outage no client could reach east.
        let w = try #require(j.workload)
        #expect(w.finalPrimary == "198.18.7.12:6379" || w.finalPrimary == "198.18.7.13:6379", "\(w)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("isolating the primary: the majority fails over, the old primary rejoins as a replica")
    func isolatedPrimary() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-primary-isolated.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.first?.kind == "partition" && j.faults.first?.confirmed == true)
        #expect(j.events.contains { $0.what == "healed isolate-primary" })
        let failover = try measured(j, "recovery_time")
        #expect(failover > 1_000_000_000 && failover <= 8_000_000_000, "\(failover)")
        // The isolated primary keeps believing it is one: the runner saw two primaries.
        #expect(try measured(j, "error_window") > 1_000_000_000)
        #expect(j.checks.contains { $0.name == "steady_state.after(one-primary)" && $0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("split brain: faultline reports the acknowledged writes the isolated primary lost, with evidence")
    func splitBrainLostWrites() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-split-brain-lost-writes.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 1, "\(out.stdout)\(out.stderr)")
        #expect(j.verdict == .failed)
        let lost = try #require(j.checks.first { $0.name == "lost_writes" })
        #expect(!lost.passed && (Int(lost.measured) ?? 0) > 0, "\(lost)")
        #expect(lost.evidence?.contains("acked by 198.18.1.11:6379") == true, "\(lost.evidence ?? "")")
        let w = try #require(j.workload)
        #expect(w.lostCount > 0 && w.lost.allSatisfy { $0.endpoint == "198.18.1.11:6379" })
        #expect(w.rpoNs > 0 && w.finalPrimary != "198.18.1.11:6379")
        // One clock: the lost writes were acknowledged by the cut-off primary, so after the cut
        // began — on the run's clock, as the fault's instants are.
        let cut = try #require(j.faults.compactMap(\.injectedAt).min())
        #expect(w.lost.allSatisfy { $0.ackedAt >= cut }, "cut at \(cut), first lost acked at \(w.lost.map(\.ackedAt).min() ?? 0)")
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        // The two primaries took writes at the same time, and the history shows it.
        let split = try #require(j.checks.first { $0.name == "split_brain" })
        #expect(!split.passed && split.evidence?.hasPrefix("198.18.1.11:6379 acknowledged") == true, "\(split)")
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(try journalSchemaComplaint("\(dir)/reports/latest/journal.json") == nil)
        let offClock = try instantsOffTheRunClock("\(dir)/reports/latest/journal.json")
        #expect(offClock.isEmpty, "\(offClock.prefix(20))")
        // The page of a failed run leads with its evidence: the lost writes, who acknowledged
        // them, and the two primaries.
        let view = try BrowserView.open(
            "\(dir)/reports/latest/report.html", screenshot: ShippedExperiment.screenshot("redis-split-brain"))
        #expect(view.requests.isEmpty && view.errors.isEmpty, "\(view.requests) \(view.errors)")
        #expect(view.facts.verdict == "FAILED" && view.facts.faultWindows == ["isolate-primary"], "\(view.facts)")
        #expect(view.facts.failedChecks.contains("lost_writes") && view.facts.failedChecks.contains("split_brain"), "\(view.facts)")
        #expect(
            view.facts.evidence.contains("198.18.1.11:6379") && view.facts.evidence.contains("\(w.lostCount)"), "\(view.facts.evidence)")
    }

    @Test("registers under split brain: stale reads and a non-linearizable history are caught")
    func splitBrainRegisters() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-split-brain-registers.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 1, "\(out.stdout)\(out.stderr)")
        let lin = try #require(j.checks.first { $0.name == "linearizable" })
        #expect(!lin.passed && lin.measured == "false", "\(lin)")
        #expect(lin.evidence?.contains("no order explains") == true, "\(lin)")
        let stale = try #require(j.checks.first { $0.name == "stale_reads" })
        #expect(!stale.passed && (Int(stale.measured) ?? 0) > 0, "\(stale)")
        #expect(j.checks.contains { $0.name == "split_brain" && !$0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("with min-replicas-to-write the isolated primary refuses writes: the loss is bounded")
    func minReplicasBounded() throws {
        let (out, j, dir) = try ShippedExperiment.run("redis-split-brain-min-replicas.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let w = try #require(j.workload)
        // refusals (NOREPLICAS) are failed writes, not lost ones; what is lost is bounded by the
        // 2 s lag window, not by the 6 s isolation
        #expect(w.failed > 0, "the isolated primary never refused a write")
        #expect(w.lostCount <= 400 && w.rpoNs < 4_000_000_000, "\(w.lostCount) lost, RPO \(w.rpoNs)")
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
