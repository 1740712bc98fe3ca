import FaultlineCore
import Foundation

/// The one inject path and the one revert path, for every fault kind.
extension Runner {
    /// A fault made ready ahead of its instant: expanded into its hosts' work, and each host's
    /// inject request sent armed, so that at the instant each agent is sent a go line of a few
    /// bytes and nothing is decoded on the way (`AgentRequest`).
    struct Armed {
        var driver: any FaultDriver
        var works: [AnyFaultWork]
        /// The armed request's id on each host's agent, or why it could not be armed there.
        var ids: [Result<Int, AgentError>]
    }

    /// Arms a fault whose hosts are known before its instant (no role to resolve then); nil
    /// when it has a role or cannot be expanded (the instant then tries and says why).
    func arm(_ step: FaultStep) -> Armed? {
        let spec = prepared[step.name]?.spec ?? step.spec
        guard spec.role == nil, case .success(let (driver, works)) = expand(step, spec) else { return nil }
        let op = { (w: AnyFaultWork) in self.injectOp(step.name, w, ttl: self.ttl(of: step)) }
        let ids = works.map { w in
            Result { () throws(AgentError) -> Int in
                guard let agent = agents[w.host] else { throw AgentError.failed(w.host, "no agent") }
                return try agent.start(op(w), armed: true)
            }
        }
        return Armed(driver: driver, works: works, ids: ids)
    }

    func expand(_ step: FaultStep, _ spec: any FaultKind) -> Result<(any FaultDriver, [AnyFaultWork]), FaultError> {
        let context = ExpansionContext(
            runId: options.runId, faultIndex: experiment.faults.firstIndex { $0.name == step.name } ?? 0, hosts: HostSet(experiment))
        return Result { () throws(FaultError) in
            guard let d = FaultDrivers.driver(for: spec) else { throw FaultError.refused("no driver for '\(step.kind)' faults") }
            return (d, try d.expandAny(spec, context))
        }
    }

    func injectOp(_ name: String, _ w: AnyFaultWork, ttl: Nanos) -> AgentRequest.Op {
        .inject(name: name, work: w, ttlNs: ttl, confirmTimeoutNs: experiment.settings.confirmTimeout)
    }

    /// Resolves the fault's role, expands it into per-host work through its driver, and asks
    /// each host's agent, all at once, to prepare, record (fsynced), apply and confirm its part.
    /// A fault armed ahead (`arm`) skips the expansion: its agents are sent their go lines.
    func inject(_ step: FaultStep, scheduled: Nanos, armed: Armed? = nil) {
        let scheduledAt = (phaseStart.map(offset) ?? 0) + scheduled
        var spec = prepared[step.name]?.spec ?? step.spec
        if let role = spec.role {
            let hosts = HostSet(experiment)
            switch resolve(role, candidates: role.candidates(hosts, fallback: spec.hosts(in: hosts))) {
            case .success(let host):
                spec = spec.onHost(host)
                emit(.roleResolved(role: role.role, host: host, fault: step.name))
            case .failure(let why):
                var record = FaultRecord(
                    name: step.name, kind: step.kind, host: "role '\(role.role)'", target: spec.target, scheduledAt: scheduledAt)
                record.error = why.description
                journal.faults.append(record)
                invalidReasons.append("fault '\(step.name)': \(why)")
                emit(.roleUnresolved(role: role.role, reason: why.description))
                return
            }
        }
        var record = FaultRecord(name: step.name, kind: step.kind, host: "", target: spec.target, scheduledAt: scheduledAt)
        let driver: any FaultDriver
        let works: [AnyFaultWork]
        if let armed {
            (driver, works) = (armed.driver, armed.works)
        } else {
            switch expand(step, spec) {
            case .success(let (d, w)): (driver, works) = (d, w)
            case .failure(let error):
                record.error = error.description
                journal.faults.append(record)
                invalidReasons.append("fault '\(step.name)' could not be injected: \(error)")
                emit(.injectFailed(fault: step.name, reason: error.description))
                return
            }
        }
        record.host = works.map(\.host).joined(separator: ",")
        record.preflight = prepared[step.name]?.note
        let index = journal.faults.count
        journal.faults.append(record)
        var bound = step
        bound.spec = spec
        // Held before the answers: if a call fails half-way, revert still asks every agent.
        held.append(Held(step: bound, driver: driver, works: works, record: index))
        let healBefore = replacementBaseline(bound, works)
        let results = injectAll(step.name, works, ttl: ttl(of: step), armed: armed?.ids)
        tally(step.name, results, into: index)
        if journal.faults[index].confirmed, let (selector, before, agent) = healBefore {
            heal.watch(step.name, selector, before: before, agent: agent)
        }
    }

    /// The agent reverts a fault by itself if the runner has not by its end plus a grace.
    func ttl(of step: FaultStep) -> Nanos {
        let end = step.duration.map { step.at + $0 } ?? experiment.duration
        return end - step.at + experiment.settings.confirmTimeout + 5_000_000_000
    }

    /// Every host's part at once, from this thread: each request (or armed request's go line)
    /// goes out first, then each answer is waited for, so a partition is cut at one instant
    /// rather than host by host, and a fleet costs no thread per host.
    func injectAll(_ name: String, _ works: [AnyFaultWork], ttl: Nanos, armed: [Result<Int, AgentError>]? = nil)
        -> [(String, Result<AgentResponse, AgentError>)]
    {
        let confirm = experiment.settings.confirmTimeout
        let started = works.indices.map { i -> Result<Int, AgentError> in
            let w = works[i]
            return Result { () throws(AgentError) -> Int in
                guard let agent = agents[w.host] else { throw AgentError.failed(w.host, "no agent") }
                if let armed {
                    let id = try armed[i].get()
                    try agent.go(id)
                    return id
                }
                return try agent.start(injectOp(name, w, ttl: ttl))
            }
        }
        return fanIn(works.map(\.host), started, timeout: confirm + 10_000_000_000)
    }

    /// The answers to requests started on each host, in the hosts' order; the timeout runs
    /// from now for all of them at once.
    func fanIn(_ hosts: [String], _ started: [Result<Int, AgentError>], timeout: Nanos) -> [(String, Result<AgentResponse, AgentError>)] {
        let deadline = MonotonicClock.now() + timeout
        return zip(hosts, started).map { host, s in
            let r = Result { () throws(AgentError) -> AgentResponse in
                let id = try s.get()
                guard let agent = agents[host] else { throw AgentError.failed(host, "no agent") }
                return try agent.wait(id, timeout: max(1, deadline - MonotonicClock.now()))
            }
            return (host, r)
        }
    }

    /// Folds the hosts' answers into the fault's record and the run's verdict.
    func tally(_ name: String, _ results: [(String, Result<AgentResponse, AgentError>)], into index: Int) {
        var record = journal.faults[index]
        let many = results.count > 1
        let label = { (host: String, text: String) in many ? "\(host): \(text)" : text }
        var details: [String] = []
        var confirmations: [String] = []
        var failures: [String] = []
        var unconfirmed: [String] = []
        for (host, result) in results {
            switch result {
            case .success(let r):
                let clock = agents[host]?.clock ?? .shared
                if clock.uncertainty > 0 { record.clockUncertainty = max(record.clockUncertainty ?? 0, clock.uncertainty) }
                if let t = offset(agent: clock.local(r.injectedAt)) { record.injectedAt = min(record.injectedAt ?? .max, t) }
                if let t = offset(agent: clock.local(r.confirmedAt)) { record.confirmedAt = max(record.confirmedAt ?? .min, t) }
                if let d = r.detail { details.append(label(host, d)) }
                if r.confirmed == true, let c = r.confirmation { confirmations.append(label(host, c)) }
                if !r.ok || r.injectedAt == nil {
                    failures.append(label(host, r.error ?? "inject failed"))
                } else if r.confirmed != true {
                    unconfirmed.append(label(host, r.error ?? "not confirmed"))
                }
            case .failure(.failed(_, let why)):
                failures.append(label(host, why))
            }
        }
        record.confirmed = failures.isEmpty && unconfirmed.isEmpty
        if !record.confirmed { record.confirmedAt = nil }
        record.detail = details.isEmpty ? nil : details.joined(separator: "; ")
        record.confirmation = record.confirmed && !confirmations.isEmpty ? confirmations.joined(separator: "; ") : nil
        let problems = failures + unconfirmed
        record.error = problems.isEmpty ? nil : problems.joined(separator: "; ")
        journal.faults[index] = record
        if !failures.isEmpty {
            invalidReasons.append("fault '\(name)' could not be injected: \(problems.joined(separator: "; "))")
            emit(.injectFailed(fault: name, reason: problems.joined(separator: "; ")))
            return
        }
        emit(.injected(fault: name, detail: record.detail))
        if record.confirmed {
            emit(.confirmed(fault: name, after: (record.confirmedAt ?? 0) - (record.injectedAt ?? 0), how: record.confirmation))
        } else {
            invalidReasons.append("fault '\(name)' did not take effect: \(record.error ?? "not confirmed")")
            emit(.notConfirmed(fault: name, reason: record.error))
        }
    }

    /// Reverts one held fault by name (a held fault whose duration ended).
    func revert(named name: String) {
        guard let i = held.firstIndex(where: { $0.step.name == name }) else { return }
        revert(held.remove(at: i))
    }

    /// Reverts everything still held, newest first.
    func revertAll() {
        while let h = held.popLast() { revert(h) }
    }

    /// Every host of the fault at once (a heal should be one instant, not a sweep); then, for
    /// kinds that prove it, that the effect is gone.
    func revert(_ h: Held) {
        let name = h.step.name
        let agents = self.agents
        let started = h.hosts.map { host in
            Result { () throws(AgentError) -> Int in
                guard let agent = agents[host] else { throw AgentError.failed(host, "no agent") }
                return try agent.start(.revert(name: name))
            }
        }
        let results = fanIn(h.hosts, started, timeout: 30_000_000_000)
        var revertedAt: Nanos?
        var details: [String] = []
        var measured: [String] = []
        let many = h.hosts.count > 1
        for (host, result) in results.sorted(by: { $0.0 < $1.0 }) {
            switch result {
            case .success(let r):
                if let t = offset(agent: (agents[host]?.clock ?? .shared).local(r.revertedAt)), !(r.detail ?? "").isEmpty {
                    revertedAt = max(revertedAt ?? t, t)
                    details.append(many ? "\(host): \(r.detail ?? "")" : r.detail ?? "")
                }
                if let m = r.measured { measured.append(many ? "\(host): \(m)" : m) }
                journal.residue += (r.residue ?? []).map { many ? "\(host): \($0)" : $0 }
                if !r.ok { emit(.revertFailed(fault: name, host: host, reason: r.error)) }
            case .failure(let e):
                if lost.value[host] != nil {
                    recoverLost(host)
                    continue
                }
                journal.residue.append("\(name) on \(host): revert failed: \(e)")
                emit(.revertFailed(fault: name, host: host, reason: "\(e)"))
            }
        }
        if !measured.isEmpty { journal.faults[h.record].measured = measured.joined(separator: "; ") }
        if let t = revertedAt {
            journal.faults[h.record].revertedAt = t
            let m = measured.isEmpty ? "" : "; measured: \(measured.joined(separator: "; "))"
            emit(.reverted(fault: name, detail: details.joined(separator: "; ") + m))
        }
        confirmReverted(h)
    }

    func confirmReverted(_ h: Held) {
        let agents = self.agents
        let calls = AgentCalls { host, op in try? agents[host]?.call(op, timeout: 10_000_000_000) }
        guard let check = h.driver.confirmRevertedAny(h.works, calls) else { return }
        if check.problems.isEmpty {
            emit(.revertConfirmed(fault: h.step.name, detail: check.detail))
        } else {
            journal.residue += check.problems.map { "\(h.step.name): \($0)" }
            emit(.revertUnconfirmed(fault: h.step.name, problems: check.problems))
        }
    }
}
