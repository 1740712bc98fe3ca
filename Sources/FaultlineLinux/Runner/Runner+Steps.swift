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

    /// Asks the host's agent to prepare, record (fsynced), apply and confirm the fault.
    func inject(_ step: FaultStep, scheduled: Nanos) {
        if case .partition(let p) = step.spec { return injectPartition(step, p, scheduled: scheduled) }
        var f = step
        if let role = Self.role(of: f.spec) {
            switch resolve(role) {
            case .success(let host):
                f.spec = Self.spec(f.spec, onHost: host)
                event("role '\(role.role)' is \(host)", "for \(f.name)")
            case .failure(let why):
                var record = FaultRecord(
                    name: f.name, kind: f.spec.kind, host: "role '\(role.role)'", target: target(of: f.spec),
                    scheduledAt: phaseStart - origin + scheduled)
                record.error = why.description
                journal.faults.append(record)
                invalidReasons.append("fault '\(f.name)': \(why)")
                event("could not resolve role '\(role.role)'", why.description)
                return
            }
        }
        var record = FaultRecord(
            name: f.name, kind: f.spec.kind, host: f.spec.host, target: target(of: f.spec), scheduledAt: phaseStart - origin + scheduled)
        let index = journal.faults.count
        // The agent reverts the fault by itself if the runner has not by its end plus a grace.
        let end = f.duration.map { f.at + $0 } ?? experiment.duration
        let ttl = end - f.at + experiment.settings.confirmTimeout + 5_000_000_000
        do {
            guard let agent = agents[f.spec.host] else { throw AgentError.failed(f.spec.host, "no agent") }
            // Held before the answer: if the call fails half-way, revert still asks the agent.
            held.append(Held(step: f, record: index, hosts: [f.spec.host]))
            journal.faults.append(record)
            let healBefore = HealWatch.before(f, experiment, agent: agent)
            let r = try agent.call(
                .inject(name: f.name, fault: f.spec, ttlNs: ttl, confirmTimeoutNs: experiment.settings.confirmTimeout),
                timeout: experiment.settings.confirmTimeout + 10_000_000_000)
            record.injectedAt = r.injectedAt.map { $0 - origin }
            record.detail = r.detail
            record.confirmed = r.confirmed ?? false
            record.confirmedAt = r.confirmedAt.map { $0 - origin }
            record.error = r.error
            journal.faults[index] = record
            guard r.ok, r.injectedAt != nil else { throw AgentError.failed(f.spec.host, r.error ?? "inject failed") }
            event("inject \(f.name)", r.detail)
            if record.confirmed {
                event("confirmed \(f.name)", "after \(DurationText.format((record.confirmedAt ?? 0) - (record.injectedAt ?? 0)))")
                if let healBefore, case .kill(let p) = f.spec { heal.watch(f.name, p.selector, before: healBefore, agent: agent) }
            } else {
                invalidReasons.append("fault '\(f.name)' did not take effect: \(r.error ?? "not confirmed")")
                event("NOT confirmed \(f.name)", r.error)
            }
        } catch {
            let why: String
            if case .failed(_, let text) = error as? AgentError { why = text } else { why = "\(error)" }
            if index < journal.faults.count { journal.faults[index].error = why } else { journal.faults.append(record) }
            invalidReasons.append("fault '\(f.name)' could not be injected: \(why)")
            event("could not inject \(f.name)", why)
        }
    }

    func target(of spec: FaultSpec) -> String {
        switch spec {
        case .kill(let p), .pause(let p): return p.selector.description
        case .partition(let p): return "\(p.shape)"
        case .block(let b): return b.from.joined(separator: ",")
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
        // Every host of a partition at once: a heal should be one instant, not a sweep.
        let results = Locked([String: Result<AgentResponse, AgentError>]())
        let agents = self.agents
        let name = h.step.name
        Parallel.run(h.hosts.count) { i in
            let host = h.hosts[i]
            let r: Result<AgentResponse, AgentError>
            if let agent = agents[host] {
                r = Result { () throws(AgentError) in try agent.call(.revert(name: name), timeout: 30_000_000_000) }
            } else {
                r = .failure(AgentError.failed(host, "no agent"))
            }
            results.mutate { $0[host] = r }
        }
        var revertedAt: Int64?
        var details: [String] = []
        let many = h.hosts.count > 1
        for (host, result) in results.value.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let r):
                if let t = r.revertedAt, !(r.detail ?? "").isEmpty {
                    revertedAt = max(revertedAt ?? t, t)
                    details.append(many ? "\(host): \(r.detail ?? "")" : r.detail ?? "")
                }
                journal.residue += (r.residue ?? []).map { many ? "\(host): \($0)" : $0 }
                if !r.ok { event("REVERT FAILED \(name) on \(host)", r.error) }
            case .failure(let e):
                journal.residue.append("\(name) on \(host): revert failed: \(e)")
                event("REVERT FAILED \(name) on \(host)", "\(e)")
            }
        }
        if let t = revertedAt {
            journal.faults[h.record].revertedAt = t - origin
            event("reverted \(name)", details.joined(separator: "; "))
        }
        if case .partition(let p) = h.step.spec { confirmHealed(h.step, p) }
    }

    func runCommand(_ a: ActionStep, scheduled: Nanos, kind: String) -> ActionRecord {
        var r = ActionRecord(name: a.name, command: a.command.description, scheduledAt: scheduled)
        r.startedAt = now
        let command = a.on.map { inside($0, a.command) } ?? a.command
        guard let command else {
            r.ok = false
            r.output = "lab host '\(a.on ?? "")' is not running"
            event("\(kind) \(a.name)", "NOT RUN: \(r.output ?? "")")
            return r
        }
        let result = Spawner.run(command, timeout: a.timeout)
        r.exitStatus = result.status
        r.ok = result.status == 0 && result.error == nil
        r.output = String(result.output.suffix(2_000))
        event("\(kind) \(a.name)", "\(a.command)\(a.on.map { " on \($0)" } ?? "") → \(result.error ?? "exit \(result.status ?? -1)")")
        return r
    }

    /// Rollbacks run on every path once the fault phase has begun, interrupted or not.
    func runRollbacks() {
        for (i, r) in experiment.rollbacks.enumerated() {
            journal.actions.append(runCommand(r, scheduled: Nanos(i), kind: "rollback"))
        }
    }

    /// Anything this run changed that is not back as it was: each agent's report for its host,
    /// and the runner's own network namespace when no agent covers it.
    func checkResidue() {
        if let before {
            journal.residue += HostSnapshot.take().0.differences(from: before)
        }
        for (host, agent) in agents.sorted(by: { $0.key < $1.key }) {
            do {
                let r = try agent.call(.residue, timeout: 10_000_000_000)
                journal.residue += (r.residue ?? []).map { "\(host): \($0)" }
            } catch {
                journal.residue.append("\(host): residue unknown: \(error)")
            }
        }
        closeAgents()
        if !journal.residue.isEmpty { event("RESIDUE", journal.residue.joined(separator: "; ")) }
    }
}
