import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The shipped experiments on the three-host web lab, run as a user would. They share the
/// lab's name (fl-web3), so they run one after another.
@Suite("web3 lab experiments", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct WebLabTests {
    func run(_ file: String) throws -> Journal {
        let (out, j, dir) = try ShippedExperiment.run(file)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(!j.faults.isEmpty && j.faults.allSatisfy { $0.confirmed && $0.revertedAt != nil }, "\(j.faults)")
        #expect(j.checks.allSatisfy { $0.passed }, "\(j.checks.filter { !$0.passed })")
        #expect(j.residue.isEmpty, "\(j.residue)")
        return j
    }

    @Test("web3-pause-one-host: n1 frozen for 1 s, n2 answers throughout")
    func pause() throws {
        let j = try run("web3-pause-one-host.yaml")
        let window = try #require(j.checks.first { $0.name.hasPrefix("error_window") })
        // The probe saw the pause: an error window of about the pause, not zero.
        let measured = try #require(DurationText.parse(window.measured))
        #expect(measured >= 800_000_000, "\(window)")
    }

    @Test("web3-partition: n1 isolated and healed, both confirmed")
    func partition() throws {
        let j = try run("web3-partition.yaml")
        #expect(j.faults.first?.confirmation?.contains("n1: cut from") == true, "\(j.faults)")
        #expect(j.events.contains { $0.what == "healed isolate-n1" }, "\(j.events.map(\.what))")
    }

    @Test("web3-slow-link: 50 ms on n1 → n2:8000 only, confirmed by measuring it")
    func slowLink() throws {
        let j = try run("web3-slow-link.yaml")
        let f = try #require(j.faults.first)
        #expect(f.confirmation?.contains("added to the round trip") == true, "\(f)")
        #expect(f.measured?.contains("held median") == true || f.detail?.contains("netem") == true, "\(f)")
    }

    @Test("web3-stop-on-partition: the stop condition trips during the partition, which is healed at once; aborted, exit 3")
    func stopOnPartition() throws {
        let (out, j, dir) = try ShippedExperiment.run("web3-stop-on-partition.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == ExitCode.aborted, "\(out.stdout)\(out.stderr)")
        let stop = try #require(j.stop, "\(out.stdout)")
        let f = try #require(j.faults.first)
        #expect(stop.condition == "availability of n1-to-n2 below 50% over 1s" && stop.measured.hasPrefix("up "), "\(stop)")
        // It tripped inside the fault's window: after the partition held, long before its 20 s end.
        let injected = try #require(f.injectedAt)
        #expect(stop.at > injected && stop.at < injected + 5_000_000_000, "\(stop) \(f)")
        #expect(!stop.samples.isEmpty && stop.samples.allSatisfy { $0 >= injected - 300_000_000 }, "\(stop.samples)")
        let reaction = try #require(stop.reactionNs)
        print("web3 stop on partition: healed and confirmed \(DurationText.format(reaction)) after the breaching sample")
        // The heal is one request per host plus a confirming probe from each: 1 s is what a loaded
        // CI machine could add, against the 19 s the partition still had to hold.
        #expect(reaction < 1_000_000_000, "\(stop)")
        #expect(f.revertedAt.map { $0 <= stop.revertedAt ?? 0 } == true && j.events.contains { $0.what == "healed isolate-n1" })
        #expect(j.actions.contains { $0.name == "n1-reaches-n2" && $0.exitStatus == 0 }, "\(j.actions)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
