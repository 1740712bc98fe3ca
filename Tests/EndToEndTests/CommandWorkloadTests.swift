import FaultlineCore
import FaultlineTestSupport
import Foundation
import Testing

/// The command workload against a store made of a file: an outage the actions switch on and off,
/// and a replica that drops values. Everything else about the checks is the same as for Redis.
@Suite("command workload, end to end")
struct CommandWorkloadTests {
    func experiment(dir: String, replicaRead: String) -> String {
        """
        version: 1
        title: a file as a store
        duration: 2s
        workload:
          command:
            write: {shell: "test -e \(dir)/down && exit 1; echo {value} >> \(dir)/store"}
            replicas:
              primary: [cat, \(dir)/store]
              copy: {shell: "\(replicaRead)"}
          rate: 100/s
          converge_within: 0s
        actions:
          - {name: outage, at: 500ms, command: [touch, \(dir)/down]}
          - {name: back, at: 1s, command: [rm, \(dir)/down]}
        expect:
          lost_writes: 0
          converged: true
          availability: {probe: workload, min: 90%}
          error_window: {probe: workload, max: 1s}

        """
    }

    @Test("refused writes fail without being lost; the outage shows in availability and error window")
    func outage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try experiment(dir: dir, replicaRead: "cat \(dir)/store").write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        let out = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        let w = try #require(j.workload)
        // 100/s for 2 s with writes refused for the middle half second.
        #expect(w.acknowledged > 120 && w.failed > 30 && w.lostCount == 0, "\(w)")
        #expect(j.checks.contains { $0.name == "lost_writes" && $0.passed })
        #expect(j.checks.contains { $0.name == "converged" && $0.passed })
        let availability = try #require(j.checks.first { $0.name.hasPrefix("availability(workload") })
        #expect(!availability.passed, "a quarter of the time refused is below 90%: \(availability)")
        let window = try #require(j.checks.first { $0.name.hasPrefix("error_window(workload") })
        let length = try #require(DurationText.parse(window.measured))
        #expect(window.passed && length >= 400_000_000 && length <= 700_000_000, "\(window)")
        #expect(out.status == 1)
    }

    @Test("a replica that kept only some values: divergence is reported with counts")
    func divergent() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try experiment(dir: dir, replicaRead: "head -n 10 \(dir)/store").write(
            toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        _ = try FaultlineBinary.run(["run", "e.yaml", "--state-dir", "state", "--out", "reports"], in: dir)
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        let c = try #require(j.checks.first { $0.name == "converged" })
        #expect(!c.passed && c.evidence?.contains("copy:") == true && c.evidence?.contains("missing") == true, "\(c)")
    }
}
