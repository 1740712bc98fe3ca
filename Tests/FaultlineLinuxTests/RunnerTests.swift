import FaultlineCore
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

private let ms: Nanos = 1_000_000

/// The runner against in-memory agents: no root, no processes, milliseconds.
@Suite("runner against fake agents")
struct RunnerTests {

    /// Runs `e` against `agents`; the interrupts are the test's own (no signal handlers).
    func run(_ e: Experiment, _ agents: FakeAgents, interrupts: Interrupts = .manual()) -> (Journal, EventLog) {
        var options = Runner.Options()
        options.runId = "20261201-000000-test"
        options.executable = "/nonexistent/faultline"
        let log = EventLog()
        let environment = Runner.Environment(transport: agents, labs: FakeLab(), snapshot: nil)
        let journal = Runner(e, options: options, observer: log, interrupts: interrupts, environment: environment).run()
        return (journal, log)
    }

    func experiment(_ faults: [FaultStep], duration: Nanos = 30 * ms) -> Experiment {
        var e = Experiment(title: "fake", duration: duration, faults: faults)
        e.settings.leaseRenew = 10 * ms
        e.settings.leaseExpiry = 40 * ms
        return e
    }

    func kill(_ name: String, at: Nanos, process: String = "web") -> FaultStep {
        FaultStep(name: name, at: at, spec: KillFault(ProcessTarget(selector: .name(process)), signal: SIGKILL, signalName: "KILL"))
    }

    func pause(_ name: String, at: Nanos, for d: Nanos, process: String = "db") -> FaultStep {
        FaultStep(name: name, at: at, duration: d, spec: PauseFault(ProcessTarget(selector: .name(process))))
    }

    @Test("kill: recorded, injected through the local agent, confirmed; nothing to revert")
    func kill() {
        let agents = FakeAgents()
        let (j, _) = run(experiment([kill("kill-web", at: 0)]), agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        #expect(j.faults.map(\.name) == ["kill-web"] && j.faults[0].confirmed && j.faults[0].host == "local")
        let inject = agents.calls("inject")
        #expect(inject.count == 1 && inject[0].host == "local")
        #expect((inject[0].work?.work as? KillFault)?.signal == SIGKILL)
        // A kill holds nothing: its only "revert" is the final sweep, which the agent answers with no undo.
        #expect(agents.calls.map(\.op).suffix(3) == ["revert", "residue", "bye"])
    }

    @Test("a fault with known hosts is armed before its instant and fired by a go line")
    func armedAhead() throws {
        let agents = FakeAgents()
        let (j, _) = run(experiment([kill("k", at: 20 * ms)], duration: 40 * ms), agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        let ops = agents.calls.map(\.op)
        let armed = try #require(ops.firstIndex(of: "armed"))
        let go = try #require(ops.firstIndex(of: "go"))
        let inject = try #require(ops.firstIndex(of: "inject"))
        #expect(armed < go && go < inject, "\(ops)")
        #expect(ops.filter { $0 == "inject" }.count == 1)
        #expect(j.faults[0].confirmed && (j.faults[0].injectedAt ?? 0) >= j.faults[0].scheduledAt)
        #expect(j.faults[0].clockUncertainty == nil, "the fake agents share the runner's clock")
    }

    @Test("faults of one instant: every one armed ahead, then one go line per host for all of them, then the answers")
    func oneInstant() throws {
        let agents = FakeAgents()
        var e = experiment(
            [
                kill("k1", at: 20 * ms, process: "a"), pause("p1", at: 20 * ms, for: 5 * ms, process: "b"),
                kill("k2", at: 20 * ms, process: "c"), pause("p2", at: 20 * ms, for: 5 * ms, process: "d"),
            ], duration: 40 * ms)
        e.hosts.append(HostSpec(name: "db1", transport: .local))
        e.faults[2].spec = KillFault(ProcessTarget(host: "db1", selector: .name("c")), signal: SIGKILL, signalName: "KILL")
        e.faults[3].spec = PauseFault(ProcessTarget(host: "db1", selector: .name("d")))
        let (j, _) = run(e, agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        let ops = agents.calls.map { "\($0.host):\($0.op)" }
        let goes = ops.enumerated().filter { $0.element.hasSuffix(":go") }
        // One go line per host, naming both of its faults, after all four were armed.
        #expect(goes.map(\.element).sorted() == ["db1:go", "local:go"], "\(ops)")
        let lastArmed = try #require(ops.lastIndex { $0.hasSuffix(":armed") })
        #expect(ops.filter { $0.hasSuffix(":armed") }.count == 4 && lastArmed < goes[0].offset, "\(ops)")
        #expect(ops.filter { $0.hasSuffix(":inject") }.count == 4, "\(ops)")
        #expect(j.faults.allSatisfy { $0.confirmed && $0.scheduledAt == j.faults[0].scheduledAt }, "\(j.faults)")
        // The two pauses end at one instant too: their reverts sent together.
        #expect(j.faults.filter { $0.kind == "pause" }.allSatisfy { $0.revertedAt != nil })
    }

    @Test("a role among candidates: resolved at the instant (never armed), and refused when it names a host outside them")
    func roleAmong() {
        func run(_ answer: String) -> (Journal, FakeAgents) {
            let agents = FakeAgents()
            var target = ProcessTarget(selector: .name("db"))
            target.role = RoleTarget(role: "primary", resolve: .argv(["echo", answer]), among: ["db1", "db2"])
            target.host = ""
            var e = experiment([FaultStep(name: "kill-primary", at: 10 * ms, spec: KillFault(target))], duration: 30 * ms)
            e.hosts += [
                HostSpec(name: "db1", transport: .local), HostSpec(name: "db2", transport: .local),
                HostSpec(name: "db3", transport: .local),
            ]
            return (self.run(e, agents).0, agents)
        }
        let (ok, agents) = run("db2")
        #expect(ok.verdict == .passed, "\(ok.reasons)")
        #expect(agents.calls("inject").map(\.host) == ["db2"] && agents.calls("armed").isEmpty && agents.calls("go").isEmpty)
        #expect(Set(agents.calls("bye").map(\.host)) == ["db1", "db2"], "agents on the candidates only")
        let (refused, others) = run("db3")
        #expect(refused.verdict == .invalid)
        #expect(others.calls("inject").isEmpty)
        #expect(
            refused.reasons.first?.contains("named 'db3', which is not among the role's candidates (db1, db2)") == true,
            "\(refused.reasons)")
    }

    @Test("an agent on another machine: its instants are mapped onto the runner's clock, with their uncertainty")
    func remoteClock() {
        let agents = FakeAgents()
        agents.clockOffset = 3_600_000_000_000  // an hour ahead: booted an hour earlier
        let (j, _) = run(experiment([pause("freeze", at: 5 * ms, for: 5 * ms)], duration: 40 * ms), agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        let f = j.faults[0]
        let u = f.clockUncertainty ?? -1
        #expect(u > 0 && u < 50 * ms, "half the best round trip: \(u)")
        // Unmapped, the instants would be an hour off; mapped, they fall inside the run.
        #expect((f.injectedAt ?? .max) >= f.scheduledAt - u && (f.injectedAt ?? .max) < j.durationNs)
        #expect((f.confirmedAt ?? .max) < j.durationNs && (f.revertedAt ?? .max) < j.durationNs)
        #expect((f.revertedAt ?? 0) - f.scheduledAt >= 5 * ms - u)
    }

    @Test("pause: injected, then reverted when its duration ends, before the run's end")
    func pause() {
        let agents = FakeAgents()
        let (j, log) = run(experiment([pause("freeze", at: 0, for: 5 * ms)], duration: 40 * ms), agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        #expect(agents.calls.map(\.op).filter { $0 == "inject" || $0 == "revert" } == ["inject", "revert"])
        let f = j.faults[0]
        #expect(f.confirmed && f.revertedAt != nil)
        #expect((f.revertedAt ?? 0) - f.scheduledAt >= 5 * ms, "reverted when its 5 ms were over")
        #expect((f.revertedAt ?? .max) < j.durationNs)
        #expect(log.lines.contains("reverted freeze: undone (fake)"))
    }

    @Test("partition: one block per host with a grudge, injected at once; the heal is checked from each host")
    func partition() throws {
        let agents = FakeAgents()
        var e = experiment([FaultStep(name: "split", at: 0, duration: 5 * ms, spec: PartitionFault(shape: .isolate("n1")))])
        let lab = try LabLoader.load(
            text: """
                lab: fake
                subnet: 198.18.250.0/24
                hosts: {n1: {address: 198.18.250.11}, n2: {address: 198.18.250.12}, n3: {address: 198.18.250.13}}
                """, file: "lab.yaml", dataRoot: "/nonexistent")
        e.lab = lab
        e.hosts += lab.hosts.map { HostSpec(name: $0.name, transport: .lab) }
        let (j, log) = run(e, agents)
        #expect(j.verdict == .passed, "\(j.reasons)")
        let blocks = agents.calls("inject").compactMap { c in (c.work?.work as? PartitionBlock).map { (c.host, $0) } }
        #expect(blocks.map(\.0).sorted() == ["n1", "n2", "n3"])
        let n1 = blocks.first { $0.0 == "n1" }?.1
        #expect(n1?.from.sorted() == ["198.18.250.12", "198.18.250.13"] && n1?.reachable == [])
        #expect(n1?.table == "faultline_20261201_000000_test_0")
        #expect(blocks.first { $0.0 == "n2" }?.1.reachable == ["198.18.250.13"])
        #expect(j.faults[0].host == "n1,n2,n3" && j.faults[0].confirmed)
        #expect(Set(agents.calls("revert").map(\.host)) == ["n1", "n2", "n3"])
        #expect(agents.calls("reach").count == 3)
        #expect(log.lines.contains("healed split: every host reaches the peers it was cut from"))
    }

    @Test("a fault whose effect never shows: the run is invalid, the schedule stops, what is held is reverted")
    func unconfirmed() {
        let agents = FakeAgents()
        agents.unconfirmed = ["kill-web"]
        let e = experiment([pause("freeze", at: 0, for: 20 * ms), kill("kill-web", at: 2 * ms), kill("later", at: 10 * ms, process: "x")])
        let (j, log) = run(e, agents)
        #expect(j.verdict == .invalid)
        #expect(j.exitCode == ExitCode.invalid)
        #expect(j.reasons.contains { $0.hasPrefix("fault 'kill-web' did not take effect") }, "\(j.reasons)")
        #expect(agents.calls("inject").map(\.fault) == ["freeze", "kill-web"], "the schedule stops at the unconfirmed fault")
        #expect(agents.calls("revert").map(\.fault).contains("freeze"))
        #expect(log.lines.contains { $0.hasPrefix("NOT confirmed kill-web") })
        #expect(j.residue.isEmpty)
    }

    @Test("an interrupt while a fault holds: the wait ends at once, the fault is reverted, the run is aborted")
    func interrupt() {
        let agents = FakeAgents()
        let interrupts = Interrupts.manual()
        agents.onInject = { _, _ in interrupts.raise(SIGINT) }
        let started = MonotonicClock.now()
        let (j, _) = run(experiment([pause("freeze", at: 0, for: 10_000 * ms)], duration: 20_000 * ms), agents, interrupts: interrupts)
        #expect(MonotonicClock.now() - started < 5_000 * ms, "the 10 s hold was not waited out")
        #expect(j.verdict == .aborted && j.exitCode == ExitCode.aborted)
        #expect(agents.calls("revert").map(\.fault) == ["freeze"])
        #expect(j.reasons.contains { $0.hasPrefix("interrupted by SIGINT") })
    }

    @Test("a role that names no host: the fault is not injected and the run is invalid")
    func unresolvedRole() {
        let agents = FakeAgents()
        var target = ProcessTarget(selector: .name("redis-server"))
        target.role = RoleTarget(role: "primary", resolve: .argv(["echo", "nobody-we-know"]))
        target.host = ""
        var e = experiment([FaultStep(name: "kill-primary", at: 0, spec: KillFault(target))])
        e.hosts.append(HostSpec(name: "db1", transport: .local))
        let (j, log) = run(e, agents)
        #expect(j.verdict == .invalid)
        #expect(agents.calls("inject").isEmpty)
        #expect(j.faults.first?.host == "role 'primary'")
        #expect(j.reasons.first?.contains("named no host of this experiment: 'nobody-we-know'") == true, "\(j.reasons)")
        #expect(log.lines.contains { $0.hasPrefix("could not resolve role 'primary'") })
    }

    @Test("an agent that stops answering its lease renewals is lost: invalid, the wait ends, its ledger is replayed")
    func lostAgent() {
        let agents = FakeAgents()
        agents.silentAfterInject = ["local"]
        let started = MonotonicClock.now()
        let (j, log) = run(experiment([pause("freeze", at: 0, for: 10_000 * ms)], duration: 20_000 * ms), agents)
        #expect(MonotonicClock.now() - started < 5_000 * ms, "the 10 s hold was not waited out")
        #expect(j.verdict == .invalid)
        #expect(j.reasons.contains { $0.hasPrefix("agent on 'local' was lost (no answer to lease renewals") }, "\(j.reasons)")
        #expect(log.lines.contains { $0.hasPrefix("AGENT LOST on local") })
        #expect(agents.recovered == ["local"], "the host's ledger is replayed once")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }
}
