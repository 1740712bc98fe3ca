import FaultlineCore
import Foundation

extension Runner {
    /// Walks the plan until its end, an interrupt, an unconfirmed fault or a lost agent. Steps
    /// due at one instant happen together: its reverts at once, then its faults at once
    /// (`injectTogether`), then its actions in order.
    func runSchedule(_ probes: [ContinuousProbe]) {
        guard let start = phaseStart else { return }
        // Realtime while it walks the plan (it sleeps between instants): woken at an instant at
        // once, not at the scheduler's next tick behind the probes, the workload and the agents.
        // Above the agents' armed threads (5): with 32 lab agents on two cores, a go line written
        // at equal priority waited behind agents already injecting (p99 22 ms against 16 ms).
        let realtime = promoteToRealtime(priority: 7)
        defer { if realtime { demoteFromRealtime() } }
        var next = plan.steps[...]
        while let at = next.first?.at {
            let instant = next.prefix { $0.at == at }
            next = next.dropFirst(instant.count)
            // Faults whose hosts are known now are armed on them while the schedule waits for
            // their instant, which then costs each host a go line (`Runner.arm`).
            var armed: [String: Armed] = [:]
            if invalidReasons.isEmpty {
                for case .inject(let f) in instant.map(\.kind) { armed[f.name] = arm(f) }
            }
            if !invalidReasons.isEmpty || wait(until: start + at, probes) { return }
            let reverts = instant.compactMap { s -> String? in if case .revert(let f) = s.kind { return f.name } else { return nil } }
            if !reverts.isEmpty { revertTogether(reverts) }
            let faults = instant.compactMap { s -> (step: FaultStep, armed: Armed?)? in
                if case .inject(let f) = s.kind { return (f, armed[f.name]) } else { return nil }
            }
            if !faults.isEmpty { injectTogether(faults, scheduled: at) }
            for case .action(let a) in instant.map(\.kind) { journal.actions.append(runCommand(a, scheduled: at, role: "action")) }
        }
        if invalidReasons.isEmpty { _ = wait(until: start + experiment.duration, probes) }
    }

    /// Waits for a deadline, reporting progress to views that want it; `true` when the schedule
    /// must stop (an interrupt, or an agent lost).
    func wait(until deadline: MonotonicInstant, _ probes: [ContinuousProbe]) -> Bool {
        while true {
            let generation = interrupts.generation
            if aborted || brake.record != nil || noteLostAgents() { return true }
            let slice = observer.wantsProgress ? min(deadline, .now + 250_000_000) : deadline
            if interrupts.wait(until: slice.ns, since: generation) {
                if aborted || brake.record != nil || noteLostAgents() { return true }
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

    /// The brake tripped: every fault still held is reverted at once (all hosts, all faults, in
    /// one sweep of requests), then the stop is recorded with how long that took from the breach.
    func brakeNow() {
        guard var stop = brake.record else { return }
        emit(.stopped(stop))
        stop.faults = held.count
        revertTogether(held.reversed().map(\.step.name))
        stop.revertedAt = now
        journal.stop = stop
        emit(.brakeReleased(stop))
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
