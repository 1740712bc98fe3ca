import Foundation
import Testing

@testable import FaultlineCore

/// Markers: the times log lines say, the lines a spec turns into markers, what a file may
/// write, and the failover broken down by them.
@Suite("markers from the system's own logs")
struct MarkerTests {
    static func utc(_: Int64) -> Int64 { 0 }
    /// 2026-12-07T22:37:01Z in seconds since the epoch (date -u -d … +%s).
    static let base: Int64 = 1_796_683_021

    @Test("the forms servers write: Redis, PostgreSQL, etcd's two loggers, ISO 8601 with a zone; the resolution is the digits'")
    func timestamps() throws {
        let cases: [(String, Int64, Int64)] = [
            ("9:X 07 Dec 2026 22:37:01.123 # +odown master mymaster 198.18.1.11 6379 #quorum 2/2", 123_000_000, 1_000_000),
            ("2026-12-07 22:37:01.123 UTC [42] LOG:  received promote request", 123_000_000, 1_000_000),
            ("2026-12-07 22:37:01.123456 I | raft: 5 became leader at term 3", 123_456_000, 1_000),
            (#"{"level":"info","ts":"2026-12-07T23:37:01.123456789+01:00","msg":"elected leader"}"#, 123_456_789, 1),
            ("[2026-12-07T22:37:01Z] whole seconds", 0, 1_000_000_000),
            ("2026-12-07T22:37:01,5Z comma", 500_000_000, 100_000_000),
        ]
        for (line, frac, resolution) in cases {
            let t = try #require(LogTimestamp.parse(line, localOffset: Self.utc), "\(line)")
            #expect(t == LogTimestamp(epochNs: Self.base * 1_000_000_000 + frac, resolutionNs: resolution), "\(line)")
        }
        // A zone-less time is local: two hours east is two hours earlier in UTC.
        let east = try #require(LogTimestamp.parse("2026-12-07 22:37:01.000 x", localOffset: { _ in 7_200 }))
        #expect(east.epochNs == (Self.base - 7_200) * 1_000_000_000)
        for line in [
            "no time here", "2026-13-07 22:37:01 bad month", "07 Dex 2026 22:37:01.1", "12026-12-07 22:37:01", "2026-12-07 25:00:00",
        ] {
            #expect(LogTimestamp.parse(line, localOffset: Self.utc) == nil, "\(line)")
        }
    }

    @Test("a scan keeps matching lines within the run, on its clock, says which had no time, and keeps at most 200 per spec")
    func scan() throws {
        let spec = MarkerSpec(name: "odown", hosts: ["n1"], service: "sentinel", pattern: try Pattern(#"\+odown"#))
        // Redis writes local time, which LogTimestamp reads in this process's zone: the run's
        // clock here starts at 22:37:01 local, whatever the zone.
        let local = LogTimestamp.localZoneOffset(Self.base) * 1_000_000_000
        let wall0 = Self.base * 1_000_000_000
        let scan = MarkerScan(toRun: { $0 - wall0 + local }, span: 0..<10_000_000_000)
        let text = """
            1:X 07 Dec 2026 22:36:59.000 # +odown before the run
            1:X 07 Dec 2026 22:37:03.250 # +odown master mymaster
            1:X 07 Dec 2026 22:37:03.260 # +sdown master mymaster
            +odown without a time
            1:X 07 Dec 2026 22:37:12.000 # +odown after the run
            """
        let r = scan.scan(text, source: "n1:sentinel", specs: [spec])
        #expect(
            r.markers == [
                MarkerRecord(
                    name: "odown", at: 2_250_000_000, source: "n1:sentinel", line: "1:X 07 Dec 2026 22:37:03.250 # +odown master mymaster",
                    uncertaintyNs: 1_000_000)
            ])
        #expect(r.undated == ["odown: +odown without a time"] && r.dropped == 0)
        let many = (0..<250).map { "07 Dec 2026 22:37:0\($0 % 9 + 1).000 +odown \($0)" }.joined(separator: "\n")
        let m = scan.scan(many, source: "s", specs: [spec])
        #expect(m.markers.count == MarkerSpec.linesKept && m.dropped == 50)
    }

    func load(_ markers: String, expect: String = "") throws -> Result<Experiment, ValidationFailure> {
        let dir = NSTemporaryDirectory() + "markers-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lab = """
            lab: m
            subnet: 198.18.216.0/24
            hosts:
              n1: {address: 198.18.216.11, services: [{name: sentinel, argv: [sleep, "1"]}]}
            """
        try lab.write(toFile: "\(dir)/m.yaml", atomically: true, encoding: .utf8)
        let text = """
            version: 1
            title: t
            lab: m.yaml
            duration: 5s
            probes: [{name: p, interval: 100ms, command: {argv: ["true"]}}]
            faults: [{name: k, at: 1s, kill: {host: n1, process: x}}]
            \(markers)
            \(expect)
            """
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

    @Test("what a file may write: lab hosts and their services, a valid pattern, one name each; the breakdown names declared markers")
    func validation() throws {
        let good = try load(
            "markers: [{name: odown, host: n1, service: sentinel, pattern: '\\+odown'}]",
            expect: "expect: {recovery_time: {probe: p, max: 5s, detected: odown, detect_max: 2s}}")
        guard case .success(let e) = good else {
            Issue.record("\(problems(good))")
            return
        }
        #expect(e.markers.map(\.name) == ["odown"] && e.markers[0].hosts == ["n1"])
        let cases: [(String, String, String)] = [
            (
                "markers: [{name: a, host: n9, service: sentinel, pattern: x}]", "",
                "7:27: 'markers[0]' names host 'n9', which is not a host of lab 'm'"
            ),
            (
                "markers: [{name: a, host: n1, service: redis, pattern: x}]", "",
                "'markers[0].service' names 'redis', which is not a service of lab host 'n1'"
            ),
            (
                "markers: [{name: a, host: n1, service: sentinel, pattern: '(?=x)'}]", "",
                "'markers[0].pattern' is not a valid regular expression"
            ),
            ("markers: [{name: a, service: sentinel, pattern: x}]", "", "'markers[0]' needs 'host' or 'hosts'"),
            ("markers: [{name: a, host: n1, service: sentinel, pattern: x, tail: 1}]", "", "tail"),
            (
                "markers: [{name: a, host: n1, service: sentinel, pattern: x}, {name: a, host: n1, service: sentinel, pattern: y}]", "",
                "marker 'a' is declared twice"
            ),
            (
                "markers: [{name: a, host: n1, service: sentinel, pattern: x}]",
                "expect: {recovery_time: {probe: p, max: 5s, detected: b}}",
                "'expect.recovery_time.detected' names marker 'b', which is not declared in 'markers'"
            ),
            (
                "", "expect: {recovery_time: {probe: p, max: 5s, promote_max: 1s}}",
                "'expect.recovery_time.promote_max' bounds a part of the failover"
            ),
        ]
        for (markers, expect, want) in cases {
            let p = problems(try load(markers, expect: expect))
            #expect(p.contains { $0.contains(want) }, "\(markers) \(expect): \(p)")
        }
    }

    @Test("detect, promote and recover: each part's bracket from its ends' uncertainty, adding up to the whole; a bound judges the far end")
    func breakdown() throws {
        let ms: Nanos = 1_000_000
        // Samples every 100 ms from 0; failing from 1 s (the kill) to 3.2 s; each 10 ms long.
        var s = ProbeSeries(probe: "p", kind: "command", interval: 100 * ms)
        for i in 0..<60 {
            let t = Nanos(i) * 100 * ms
            s.append(scheduled: t, started: t, latency: 10 * ms, ok: !(10...32).contains(i), reason: nil)
        }
        var run = RunEvidence(phase: 0..<(6_000 * ms), series: [s], faultStarts: ["k": 1_000 * ms])
        run.markers = [
            MarkerRecord(name: "odown", at: 2_100 * ms, source: "n2:sentinel", line: "", uncertaintyNs: ms),
            MarkerRecord(name: "promoted", at: 2_900 * ms, source: "n2:sentinel", line: "", uncertaintyNs: ms),
        ]
        let e = RecoveryTimeExpectation(
            probe: "p", max: 5_000 * ms, fault: "k", streak: 3, detected: "odown", promoted: "promoted", detectMax: 1_101 * ms,
            promoteMax: 800 * ms, recoverMax: 2_000 * ms)
        let r = e.check(run)
        #expect(
            r.map(\.name) == [
                "recovery_time(p, after k)", "recovery_time(p, after k).detect", "recovery_time(p, after k).promote",
                "recovery_time(p, after k).recover",
            ])
        // Whole: the last failure started at 3.2 s, the first of three successes ended at 3.31 s.
        #expect(r[0].value == .seconds(2_310 * ms, lower: 2_200 * ms, upper: 2_310 * ms) && r[0].passed)
        // Detect: 1 s → odown in [2.1, 2.101): 1.1 – 1.101 s, within 1.101 s.
        #expect(r[1].value == .seconds(1_101 * ms, lower: 1_100 * ms, upper: 1_101 * ms) && r[1].passed, "\(r[1])")
        // Promote: odown → promoted: 799 – 801 ms; the far end is past 800 ms, so it fails.
        #expect(
            r[2].value == .seconds(801 * ms, lower: 799 * ms, upper: 801 * ms) && !r[2].passed && r[2].measured == "799ms – 801ms",
            "\(r[2])")
        // Recover: promoted in [2.9, 2.901) → recovery in [3.2, 3.31]: 299 – 410 ms.
        #expect(r[3].value == .seconds(410 * ms, lower: 299 * ms, upper: 410 * ms) && r[3].passed, "\(r[3])")
        // The parts' brackets hold the whole's.
        #expect(r[1...].compactMap(\.value?.lower).reduce(0, +) <= r[0].value!.lower! + 1e-9)
        #expect(r[1...].compactMap(\.value?.upper).reduce(0, +) >= r[0].value!.upper! - 1e-9)
        // A marker that never came is a failed part, named; nothing after it is guessed.
        run.markers.removeLast()
        let missing = e.check(run)
        #expect(
            missing.count == 3 && !missing[2].passed && missing[2].measured == "no promoted line after odown (n2:sentinel)", "\(missing)")
    }
}
