import Foundation
import Testing

@testable import FaultlineCore

@Suite("experiment loader")
struct LoaderTests {
    /// Every malformed file yields exactly the diagnostics listed for it, in order.
    static let malformed: [String] = {
        let dir = Fixtures.path("malformed")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }
            .sorted()
    }()

    static let expected: [String: [String]] = {
        let text = (try? Fixtures.text("malformed-expected.txt")) ?? ""
        var out: [String: [String]] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            // A lab's or an inventory's lines (labs/…, inventories/…, other files) belong to
            // the experiment before them.
            let file = line.prefix { $0 != ":" }
            let other = file.hasPrefix("labs/") || file.hasPrefix("inventories/") || !(file.hasSuffix(".yaml") || file.hasSuffix(".json"))
            if !other { current = String(file) }
            out[current, default: []].append(String(line))
        }
        return out
    }()

    @Test("the malformed and hostile corpus has at least 150 files, each with expectations")
    func corpusSize() {
        #expect(Self.malformed.count >= 150)
        for f in Self.malformed { #expect(Self.expected[f] != nil, "no expected diagnostics for \(f)") }
    }

    @Test("malformed file reports exact FILE:LINE:COL messages", arguments: malformed)
    func malformedFile(_ name: String) throws {
        // Loaded from its path, as `faultline validate` does; messages are compared with the
        // fixtures folder left out (lab files sit in malformed/labs/).
        let dir = Fixtures.path("malformed") + "/"
        do {
            _ = try ExperimentLoader.load(path: dir + name)
            Issue.record("\(name) loaded without error")
        } catch let failure as ValidationFailure {
            #expect(failure.diagnostics.map { $0.description.replacingOccurrences(of: dir, with: "") } == Self.expected[name] ?? [])
        }
    }

    @Test("YAML and JSON forms load to the same experiment")
    func yamlAndJSONAgree() throws {
        var y = try ExperimentLoader.load(path: Fixtures.path("valid/web.yaml"))
        var j = try ExperimentLoader.load(path: Fixtures.path("valid/web.json"))
        y.source = ""
        j.source = ""
        #expect(y == j)
    }

    @Test("a valid file is read completely")
    func validContents() throws {
        let e = try ExperimentLoader.load(path: Fixtures.path("valid/web.yaml"))
        #expect(e.title == "web server heals")
        #expect(e.tags == ["web", "self-healing"])
        #expect(e.hosts.map(\.name) == ["local", "web1"])
        #expect(e.duration == 10_000_000_000)
        #expect(e.probes.map(\.interval) == [20_000_000, 1_000_000])
        #expect(e.probes[0].maxLatency == 500_000_000)
        guard case .http(let h) = e.steadyState[0].kind else {
            Issue.record("steady state probe is not http")
            return
        }
        #expect(h.status == [200...200, 300...399])
        #expect(h.bodyContains == "ok")
        #expect(e.faults.map(\.name) == ["kill-web", "freeze-db"])
        guard let k = e.faults[0].spec as? KillFault, let p = e.faults[1].spec as? PauseFault else {
            Issue.record("fault kinds not read")
            return
        }
        #expect(k.process.selector == .port(8080))
        #expect(k.signal == 9)
        #expect(k.process.host == "web1")
        #expect(p.process.selector == .name("postgres"))
        #expect(p.process.multiplicity == .all)
        #expect(e.faults[1].duration == 2_000_000_000)
        #expect(e.actions == [ActionStep(name: "noop", at: 1_000_000_000, command: .argv(["true"]))])
        #expect(e.rollbacks.first?.command == .shell("echo done"))
        #expect(
            e.expectations == [
                Expectation(AvailabilityExpectation(probe: "web", min: 0.99, window: .outside)),
                Expectation(AvailabilityExpectation(probe: "port", min: 0.5, window: .all)),
                Expectation(RecoveryTimeExpectation(probe: "web", max: 3_000_000_000, fault: "kill-web", streak: 5)),
                Expectation(ErrorWindowExpectation(probe: "port", max: 2_500_000_000)),
            ])
        #expect(e.settings.confirmTimeout == 1_000_000_000)
        #expect(e.settings.settleTimeout == 10_000_000_000)
    }

    @Test("defaults: kill sends TERM to exactly one process; probes sample every 100ms")
    func defaults() throws {
        let e = try ExperimentLoader.load(
            text: """
                version: 1
                title: t
                duration: 5s
                probes: [{tcp: "127.0.0.1:1"}]
                faults: [{at: 1s, kill: {process: x}}]
                expect: {recovery_time: {max: 1s}}
                """, file: "t.yaml")
        guard let k = e.faults[0].spec as? KillFault else {
            Issue.record("not a kill")
            return
        }
        #expect(k.signal == 15 && k.signalName == "TERM" && k.process.multiplicity == .one && k.process.host == "local")
        #expect(e.faults[0].name == "kill-1")
        #expect(e.probes[0].interval == 100_000_000)
        #expect(
            e.expectations == [Expectation(RecoveryTimeExpectation(probe: "probes[0]", max: 1_000_000_000, fault: "kill-1", streak: 3))])
    }

}

@Suite("YAML features a hostile-input fix must not break")
struct YAMLFeatureTests {
    func load(_ text: String) throws -> Experiment { try ExperimentLoader.load(text: text, file: "t.yaml") }

    @Test("merge keys: a mapping's own keys win, the merged ones fill in; x- keys hold the anchors")
    func mergeKeys() throws {
        let e = try load(
            """
            version: 1
            x-kill: &kill {process: web, signal: KILL}
            title: t
            duration: 5s
            faults:
              - {at: 1s, kill: {<<: *kill}}
              - {at: 2s, kill: {<<: *kill, signal: TERM}}
            """)
        let kills = e.faults.compactMap { $0.spec as? KillFault }
        #expect(kills.map(\.signalName) == ["KILL", "TERM"])
        #expect(kills.allSatisfy { $0.process.selector == .name("web") })
    }

    @Test("blast_radius: host acknowledges a selector that takes every process")
    func blastRadius() throws {
        let e = try load(
            "version: 1\ntitle: t\nduration: 5s\nfaults: [{at: 1s, kill: {process: {cmdline: '.*'}, all: true, blast_radius: host}}]\n")
        #expect((e.faults[0].spec as? KillFault)?.process.wholeHost == true)
    }

    @Test("an hour and more keeps its seconds when formatted")
    func longDurations() {
        #expect(DurationText.format(100_001 * 1_000_000_000) == "27h46m41s")
        #expect(DurationText.format(168 * 3_600_000_000_000) == "168h")
    }
}
