import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The shipped HAProxy experiment, run as a user would, in its lab.
@Suite(
    "HAProxy load-balancing experiments", .serialized,
    .enabled(if: getuid() == 0, "needs root to create network namespaces"),
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"),
        "needs haproxy and nginx (scripts/install-deps.sh)"))
struct HAProxyTests {
    @Test("consistent hashing: a backend dies and no key of a survivor changes backend")
    func consistentHash() throws {
        let (out, j, dir) = try ShippedExperiment.run("haproxy-consistent-hash.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let sticky = try #require(j.checks.first { $0.name == "load_balancing(b2).sticky" })
        #expect(sticky.passed && sticky.measured == "0%", "\(sticky)")
        // 60 keys over three backends: a good share of them lived on the survivors.
        let kept = sticky.evidence.flatMap { Int($0.split(separator: " ")[2]) } ?? 0
        #expect(kept >= 20, "\(sticky)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("a backend dies: ejected, survivors share evenly, restarted and back in rotation")
    func backendDies() throws {
        let (out, j, dir) = try ShippedExperiment.run("haproxy-backend-dies.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.first?.confirmed == true)
        #expect(j.actions.first?.ok == true, "\(j.actions)")
        let names = ["ejection", "evenness", "rejoin", "availability"].map { "load_balancing(b1).\($0)" }
        for n in names {
            let c = try #require(j.checks.first { $0.name == n }, "\(n) missing")
            #expect(c.passed, "\(c)")
        }
        // Rise 2 at 500 ms intervals: back in rotation no sooner than one check interval.
        let rejoin = try #require(j.checks.first { $0.name == names[2] }.flatMap { DurationText.parse($0.measured) })
        #expect(rejoin >= 400_000_000, "\(rejoin)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("a slow backend: 150 ms is tolerated and felt by clients, 400 ms fails the health checks and is ejected")
    func slowBackend() throws {
        let (out, j, dir) = try ShippedExperiment.run("haproxy-slow-backend.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(j.faults.count == 2 && j.faults.allSatisfy { $0.confirmed == true }, "\(j.faults)")
        // Kept in rotation at 150 ms: the p90 of all requests carries the whole delay.
        let added = try #require(j.checks.first { $0.name.hasPrefix("added_latency") })
        #expect(added.passed, "\(added)")
        let p90 = try #require(DurationText.parse(String(added.measured.dropFirst().prefix { $0 != " " })))
        #expect(p90 >= 140_000_000 && p90 <= 200_000_000, "\(added)")
        for n in ["ejection", "evenness", "availability"] {
            let c = try #require(j.checks.first { $0.name == "load_balancing(b1).\(n)" }, "\(n) missing")
            #expect(c.passed, "\(c)")
        }
        // Ejected by timed-out checks (fall 2, inter 500 ms), which take at least two intervals.
        let ejection = try #require(j.checks.first { $0.name == "load_balancing(b1).ejection" }.flatMap { DurationText.parse($0.measured) })
        #expect(ejection >= 900_000_000, "\(ejection)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
