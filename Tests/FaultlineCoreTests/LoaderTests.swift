import Foundation
import Testing

@testable import FaultlineCore

@Suite("experiment loader")
struct LoaderTests {
    /// Every malformed file yields exactly the diagnostics listed for it, in order.
    static let malformed: [String] = {
        let dir = Fixtures.path("malformed")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }()

    static let expected: [String: [String]] = {
        let text = (try? Fixtures.text("malformed-expected.txt")) ?? ""
        var out: [String: [String]] = [:]
        for line in text.split(separator: "\n") {
            let file = String(line.prefix { $0 != ":" })
            out[file, default: []].append(String(line))
        }
        return out
    }()

    @Test("the malformed corpus has at least 30 files, each with expectations")
    func corpusSize() {
        #expect(Self.malformed.count >= 30)
        for f in Self.malformed { #expect(Self.expected[f] != nil, "no expected diagnostics for \(f)") }
    }

    @Test("malformed file reports exact FILE:LINE:COL messages", arguments: malformed)
    func malformedFile(_ name: String) throws {
        let text = try Fixtures.text("malformed/\(name)")
        do {
            _ = try ExperimentLoader.load(text: text, file: name)
            Issue.record("\(name) loaded without error")
        } catch let failure as ValidationFailure {
            #expect(failure.diagnostics.map(\.description) == Self.expected[name] ?? [])
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
