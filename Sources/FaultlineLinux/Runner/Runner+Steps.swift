import FaultlineCore
import Foundation
import Glibc

extension Runner {
    /// Records a part of the run from `start` until now, for the timeline.
    func addPhase(_ name: String, _ start: Nanos, end: Nanos? = nil) {
        journal.phases = (journal.phases ?? []) + [PhaseSpan(name: name, startAt: start, endAt: end ?? now)]
    }

    /// Every steady-state probe once; all must hold before anything is injected.
    func steadyStateBefore() -> Bool {
        let began = now
        let outcomes = experiment.steadyState.map(sampleOnce)
        if !outcomes.isEmpty { addPhase("steady state before", began) }
        journal.steadyState.before = outcomes
        for (o, p) in zip(outcomes, experiment.steadyState) {
            journal.checks.append(
                CheckResult(name: "steady_state.before(\(o.probe))", passed: o.ok, expected: p.summary, measured: o.detail))
        }
        let failed = outcomes.filter { !$0.ok }
        if !failed.isEmpty {
            let list = failed.map { "\($0.probe) (\($0.detail))" }.joined(separator: ", ")
            invalidReasons.append("steady state did not hold before any fault, nothing was injected: \(list)")
            emit(.steadyState(before: true, ok: false, detail: list))
            return false
        }
        emit(.steadyState(before: true, ok: true, detail: outcomes.isEmpty ? "no probes" : "\(outcomes.count) probe(s)"))
        return !aborted
    }

    /// After revert the system gets up to `settle_timeout` to return to its steady state.
    func steadyStateAfter() {
        let began = now
        defer { if !experiment.steadyState.isEmpty { addPhase("steady state after", began) } }
        let deadline = MonotonicClock.now() + experiment.settings.settleTimeout
        var outcomes: [ProbeOutcome] = []
        for p in experiment.steadyState {
            var o = sampleOnce(p)
            while !o.ok, !aborted, MonotonicClock.now() < deadline {
                _ = interrupts.wait(until: min(deadline, MonotonicClock.now() + 100_000_000))
                o = sampleOnce(p)
            }
            outcomes.append(o)
            journal.checks.append(
                CheckResult(
                    name: "steady_state.after(\(o.probe))", passed: o.ok,
                    expected: "\(p.summary), settling within \(DurationText.format(experiment.settings.settleTimeout))", measured: o.detail)
            )
        }
        journal.steadyState.after = outcomes
        if !outcomes.isEmpty { emit(.steadyState(before: false, ok: outcomes.allSatisfy(\.ok), detail: nil)) }
    }

    func sampleOnce(_ p: ProbeSpec) -> ProbeOutcome {
        do throws(ProbeError) {
            let s = try Probes.make(p).sample()
            let detail = s.ok ? "ok in \(DurationText.format(s.latency))" : (s.reason ?? "failed")
            return ProbeOutcome(probe: p.name, ok: s.ok, latencyNs: s.latency, detail: detail)
        } catch {
            return ProbeOutcome(probe: p.name, ok: false, latencyNs: 0, detail: "probe could not run: \(error)")
        }
    }

    /// An action (`role` "action") or a rollback, here or inside a lab host.
    func runCommand(_ a: ActionStep, scheduled: Nanos, role: String) -> ActionRecord {
        var r = ActionRecord(name: a.name, command: a.command.description, scheduledAt: scheduled)
        r.startedAt = now
        let command = a.on.map { inside($0, a.command) } ?? a.command
        guard let command else {
            r.ok = false
            r.output = "lab host '\(a.on ?? "")' is not running"
            emit(.command(role: role, name: a.name, detail: "NOT RUN: \(r.output ?? "")"))
            return r
        }
        let result = Spawner.run(command, timeout: a.timeout)
        r.exitStatus = result.status
        r.ok = result.status == 0 && result.error == nil
        r.output = String(result.output.suffix(2_000))
        emit(
            .command(
                role: role, name: a.name,
                detail: "\(a.command)\(a.on.map { " on \($0)" } ?? "") → \(result.error ?? "exit \(result.status ?? -1)")"))
        return r
    }

    /// Rollbacks run on every path once the fault phase has begun, interrupted or not.
    func runRollbacks() {
        for (i, r) in experiment.rollbacks.enumerated() {
            journal.actions.append(runCommand(r, scheduled: Nanos(i), role: "rollback"))
        }
    }

    /// Anything this run changed that is not back as it was: each agent's report for its host,
    /// and the runner's own network namespace when no agent covers it.
    func checkResidue() {
        if let before, let snapshot = environment.snapshot {
            journal.residue += snapshot().0.differences(from: before)
        }
        for (host, agent) in agents.sorted(by: { $0.key < $1.key }) {
            if lost.value[host] != nil {
                recoverLost(host)
                continue
            }
            do {
                let r = try agent.call(.residue, timeout: 10_000_000_000)
                journal.residue += (r.residue ?? []).map { "\(host): \($0)" }
            } catch {
                journal.residue.append("\(host): residue unknown: \(error)")
            }
        }
        closeAgents()
        if !journal.residue.isEmpty { emit(.residue(journal.residue)) }
    }
}
