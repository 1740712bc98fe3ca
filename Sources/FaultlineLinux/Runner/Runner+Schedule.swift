import FaultlineCore
import Foundation

extension Runner {
    /// Walks the plan until its end, an interrupt, an unconfirmed fault or a lost agent.
    func runSchedule(_ probes: [ContinuousProbe]) {
        guard let start = phaseStart else { return }
        for step in plan.steps {
            // A fault whose hosts are known now is armed on them while the schedule waits for
            // its instant, which then costs each host a go line (`Runner.arm`).
            var armed: Armed?
            if case .inject(let f) = step.kind, invalidReasons.isEmpty { armed = arm(f) }
            if !invalidReasons.isEmpty || wait(until: start + step.at, probes) { return }
            switch step.kind {
            case .inject(let f): inject(f, scheduled: step.at, armed: armed)
            case .revert(let f): revert(named: f.name)
            case .action(let a): journal.actions.append(runCommand(a, scheduled: step.at, role: "action"))
            }
        }
        if invalidReasons.isEmpty { _ = wait(until: start + experiment.duration, probes) }
    }

    /// Waits for a deadline, reporting progress to views that want it; `true` when the schedule
    /// must stop (an interrupt, or an agent lost).
    func wait(until deadline: MonotonicInstant, _ probes: [ContinuousProbe]) -> Bool {
        while true {
            let generation = interrupts.generation
            if aborted || noteLostAgents() { return true }
            let slice = observer.wantsProgress ? min(deadline, .now + 250_000_000) : deadline
            if interrupts.wait(until: slice.ns, since: generation) {
                if aborted || noteLostAgents() { return true }
                continue
            }
            if slice >= deadline { return false }
            showProgress(probes)
        }
    }

    func showProgress(_ probes: [ContinuousProbe]) {
        guard let start = phaseStart else { return }
        let tallies = zip(experiment.probes, probes).map { spec, p in
            let t = p.tally()
            return RunProgress.Probe(name: spec.name, up: t.up, failed: t.failed, total: t.total)
        }
        emit(.progress(RunProgress(elapsed: .now - start, duration: experiment.duration, held: held.count, probes: tallies)))
    }

    /// Turns agents lost since the last look into reasons the run is invalid; true if any.
    @discardableResult
    func noteLostAgents() -> Bool {
        let all = lost.value
        for (host, why) in all.sorted(by: { $0.key < $1.key }) where notedLost.insert(host).inserted {
            invalidReasons.append("agent on '\(host)' was lost (\(why)); its lease reverts what it held, so no fault held to its end")
            emit(.agentLost(host: host, reason: why))
        }
        return !all.isEmpty
    }
}
