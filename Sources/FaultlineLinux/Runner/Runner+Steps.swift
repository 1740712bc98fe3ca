import FaultlineCore
import Foundation
import Glibc

extension Runner {
    /// Every steady-state probe once; all must hold before anything is injected.
    func steadyStateBefore() -> Bool {
        let outcomes = experiment.steadyState.map(sampleOnce)
        journal.steadyState.before = outcomes
        for (o, p) in zip(outcomes, experiment.steadyState) {
            journal.checks.append(
                CheckResult(name: "steady_state.before(\(o.probe))", passed: o.ok, expected: p.summary, measured: o.detail))
        }
        let failed = outcomes.filter { !$0.ok }
        if !failed.isEmpty {
            let list = failed.map { "\($0.probe) (\($0.detail))" }.joined(separator: ", ")
            invalidReasons.append("steady state did not hold before any fault, nothing was injected: \(list)")
            event("steady state before: FAILED", list)
            return false
        }
        event("steady state before: ok", outcomes.isEmpty ? "no probes" : "\(outcomes.count) probe(s)")
        return !aborted
    }

    /// After revert the system gets up to `settle_timeout` to return to its steady state.
    func steadyStateAfter() {
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
        if !outcomes.isEmpty { event("steady state after: \(outcomes.allSatisfy(\.ok) ? "ok" : "FAILED")") }
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

    /// prepare → record in the ledger (fsynced) → apply → confirm.
    func inject(_ f: FaultStep, scheduled: Nanos) {
        var record = FaultRecord(
            name: f.name, kind: f.spec.kind, host: f.spec.host, target: target(of: f.spec), scheduledAt: phaseStart - origin + scheduled)
        let driver = FaultDrivers.driver(for: f.spec)
        let index = journal.faults.count
        do {
            let injection = try driver.prepare(f.spec)
            guard let ledger else { throw FaultError.system("no ledger") }
            let id = try ledger.record(fault: f.name, host: f.spec.host, summary: injection.summary, undo: injection.undo)
            held.append(Held(step: f, injection: injection, ledgerId: id, record: index))
            record.injectedAt = now
            try driver.apply(injection)
            record.detail = injection.summary
            journal.faults.append(record)
            event("inject \(f.name)", injection.summary)
            let c = driver.confirm(injection, deadline: MonotonicClock.now() + experiment.settings.confirmTimeout)
            journal.faults[index].confirmed = c.ok
            journal.faults[index].confirmedAt = c.at.map { $0 - origin }
            if c.ok {
                event("confirmed \(f.name)", c.detail)
            } else {
                journal.faults[index].error = c.detail
                invalidReasons.append("fault '\(f.name)' did not take effect: \(c.detail)")
                event("NOT confirmed \(f.name)", c.detail)
            }
        } catch {
            record.error = "\(error)"
            if index == journal.faults.count { journal.faults.append(record) } else { journal.faults[index].error = "\(error)" }
            invalidReasons.append("fault '\(f.name)' could not be injected: \(error)")
            event("could not inject \(f.name)", "\(error)")
        }
    }

    func target(of spec: FaultSpec) -> String {
        switch spec {
        case .kill(let p), .pause(let p): return p.selector.description
        }
    }

    /// Reverts one held fault by name (a pause whose duration ended).
    func revert(named name: String) {
        guard let i = held.firstIndex(where: { $0.step.name == name }) else { return }
        revert(held.remove(at: i))
    }

    /// Reverts everything still held, newest first.
    func revertAll() {
        while let h = held.popLast() { revert(h) }
    }

    func revert(_ h: Held) {
        do {
            let residue = try FaultDrivers.revert(h.injection)
            try ledger?.markReverted(h.ledgerId)
            if !h.injection.undo.isEmpty {
                journal.faults[h.record].revertedAt = now
                event("reverted \(h.step.name)", h.injection.undo.map(\.description).joined(separator: "; "))
            }
            journal.residue += residue.map { "\(h.step.name): \($0)" }
        } catch {
            journal.residue.append("\(h.step.name): revert failed: \(error)")
            event("REVERT FAILED \(h.step.name)", "\(error)")
        }
    }

    func runCommand(_ a: ActionStep, scheduled: Nanos, kind: String) -> ActionRecord {
        var r = ActionRecord(name: a.name, command: a.command.description, scheduledAt: scheduled)
        r.startedAt = now
        let result = Spawner.run(a.command, timeout: a.timeout)
        r.exitStatus = result.status
        r.ok = result.status == 0 && result.error == nil
        r.output = String(result.output.suffix(2_000))
        event("\(kind) \(a.name)", "\(a.command) → \(result.error ?? "exit \(result.status ?? -1)")")
        return r
    }

    /// Rollbacks run on every path once the fault phase has begun, interrupted or not.
    func runRollbacks() {
        for (i, r) in experiment.rollbacks.enumerated() {
            journal.actions.append(runCommand(r, scheduled: Nanos(i), kind: "rollback"))
        }
    }

    /// Anything this run changed that is not back as it was.
    func checkResidue() {
        if let before {
            journal.residue += HostSnapshot.take().0.differences(from: before)
        }
        if let ledger {
            for e in ledger.pending { journal.residue.append("ledger entry '\(e.fault)' on \(e.host) still pending: \(e.summary)") }
            if ledger.closeIfClean(), !ledger.isEmpty { event("ledger clean", "removed \(ledger.path)") }
        }
        if !journal.residue.isEmpty { event("RESIDUE", journal.residue.joined(separator: "; ")) }
    }
}
