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

    /// A fault on its way in at its instant: bound to its hosts, in the journal, held.
    struct Firing {
        var step: FaultStep
        var index: Int
        var works: [AnyFaultWork]
        var armed: [Result<Int, AgentError>]?
        var started: [Result<Int, AgentError>] = []
        var healBefore: (ProcessSelector, Set<String>, AgentClient)?
    }

    /// One fault at its instant (`injectTogether` of one).
    func inject(_ step: FaultStep, scheduled: Nanos, armed: Armed? = nil) {
        injectTogether([(step, armed)], scheduled: scheduled)
    }

    /// Every fault due at one instant, fired together: their roles resolved at once, then each
    /// expanded into per-host work through its driver (or taken as armed ahead), then every
    /// request to every agent sent (an armed one as a go line of a few bytes) before any answer
    /// is waited for — so a region outage with latency on its links, or a kill with a
    /// partition, lands as one failure, not one after another. Each agent prepares, records
    /// (fsynced), applies and confirms its part; the answers are tallied per fault.
    func injectTogether(_ faults: [(step: FaultStep, armed: Armed?)], scheduled: Nanos) {
        let scheduledAt = (phaseStart.map(offset) ?? 0) + scheduled
        let specs = bindRoles(faults.map(\.step), scheduledAt: scheduledAt)
        var firings: [Firing] = []
        for ((step, armed), spec) in zip(faults, specs) {
            guard let spec, let f = begin(step, spec, armed: armed, scheduledAt: scheduledAt) else { continue }
            firings.append(f)
        }
        // What a watched kill must be told apart from, read before anything is sent.
        for i in firings.indices { firings[i].healBefore = replacementBaseline(firings[i].step, firings[i].works) }
        send(&firings)
        let confirm = experiment.settings.confirmTimeout
        for f in firings {
            let results = fanIn(f.works.map(\.host), f.started, timeout: confirm + 10_000_000_000)
            tally(f.step.name, results, into: f.index)
            if journal.faults[f.index].confirmed, let (selector, before, agent) = f.healBefore {
                // A kill's processes are gone at its confirmation; a held fault's (a limit the
                // kernel kills at) end later, and the watch notes when.
                let held = type(of: f.step.spec).holding != .instant
                heal.watch(f.step.name, selector, before: before, agent: agent, since: held ? MonotonicClock.now() : nil)
            }
        }
    }

    /// Each fault's spec with its role's host filled in: the roles' commands run at once; a
    /// role that resolves to nothing is recorded and its fault left out (nil).
    func bindRoles(_ steps: [FaultStep], scheduledAt: Nanos) -> [(any FaultKind)?] {
        let specs = steps.map { prepared[$0.name]?.spec ?? $0.spec }
        // Nothing to resolve (the common case): no thread, nothing between the instant and the sends.
        guard specs.contains(where: { $0.role != nil }) else { return specs }
        let hosts = HostSet(experiment)
        // resolve reads the experiment and the lab's state, which nothing changes meanwhile.
        let runner = Unchecked(value: self)
        let answers = Parallel.map(specs.map { Unchecked(value: $0) }, limit: 16) { box -> Result<String, FaultError>? in
            let spec = box.value
            return spec.role.map { runner.value.resolve($0, candidates: $0.candidates(hosts, fallback: spec.hosts(in: hosts))) }
        }
        return zip(zip(steps, specs), answers).map { pair, answer -> (any FaultKind)? in
            let (step, spec) = pair
            guard let role = spec.role, let answer else { return spec }
            switch answer {
            case .success(let host):
                emit(.roleResolved(role: role.role, host: host, fault: step.name))
                let boundSpec = spec.onHost(host)
                let problems = guardProblems(step, boundSpec)
                guard problems.isEmpty else {
                    var record = FaultRecord(
                        name: step.name, kind: step.kind, host: host, target: boundSpec.target, scheduledAt: scheduledAt)
                    let why = "the safety guard refused it once its role named \(host): \(problems.joined(separator: "; "))"
                    record.error = why
                    journal.faults.append(record)
                    invalidReasons.append("fault '\(step.name)': \(why); nothing of it was injected")
                    emit(.injectFailed(fault: step.name, reason: why))
                    return nil
                }
                boundRoles[step.name] = boundSpec
                return boundSpec
            case .failure(let why):
                var record = FaultRecord(
                    name: step.name, kind: step.kind, host: "role '\(role.role)'", target: spec.target, scheduledAt: scheduledAt)
                record.error = why.description
                journal.faults.append(record)
                invalidReasons.append("fault '\(step.name)': \(why)")
                emit(.roleUnresolved(role: role.role, reason: why.description))
                return nil
            }
        }
    }

    /// What `safety:` and the quorums say against `step` (its role bound to a host), with every
    /// fault that holds at its instant: the plan could not check it before the role was known.
    func guardProblems(_ step: FaultStep, _ spec: any FaultKind) -> [String] {
        let g = BlastGuard(experiment)
        guard g.isActive else { return [] }
        let hosts = HostSet(experiment)
        var active: [(name: String, impact: FaultImpact)] = []
        for f in experiment.faults where f.name != step.name {
            guard f.window(experimentDuration: experiment.duration).contains(step.at) || f.at == step.at else { continue }
            if f.spec.role == nil {
                active.append((f.name, f.spec.impact(in: hosts)))
            } else if let b = boundRoles[f.name] {
                active.append((f.name, b.impact(in: hosts)))
            }
        }
        active.append((step.name, spec.impact(in: hosts)))
        return g.evaluate(active).problems
    }

    /// Expands a fault (unless armed), records it in the journal and holds it: if a call fails
    /// half-way, revert still asks every agent. Nil when it cannot be expanded (recorded).
    func begin(_ step: FaultStep, _ spec: any FaultKind, armed: Armed?, scheduledAt: Nanos) -> Firing? {
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
                return nil
            }
        }
        record.host = works.map(\.host).joined(separator: ",")
        record.preflight = prepared[step.name]?.note
        let index = journal.faults.count
        journal.faults.append(record)
        var bound = step
        bound.spec = spec
        held.append(Held(step: bound, driver: driver, works: works, record: index))
        return Firing(step: bound, index: index, works: works, armed: armed?.ids)
    }

    /// Every host's part of every fault of the instant, sent: a fault armed ahead costs its
    /// hosts one go line each for the whole instant (naming every armed request of theirs), a
    /// fault with a role its request.
    func send(_ firings: inout [Firing]) {
        var goes: [String: [Int]] = [:]
        var order: [String] = []
        for f in firings.indices {
            let ttl = ttl(of: firings[f].step)
            firings[f].started = firings[f].works.indices.map { i -> Result<Int, AgentError> in
                let w = firings[f].works[i]
                return Result { () throws(AgentError) -> Int in
                    guard let agent = agents[w.host] else { throw AgentError.failed(w.host, "no agent") }
                    guard let armed = firings[f].armed else { return try agent.start(injectOp(firings[f].step.name, w, ttl: ttl)) }
                    let id = try armed[i].get()
                    if goes[w.host] == nil { order.append(w.host) }
                    goes[w.host, default: []].append(id)
                    return id
                }
            }
        }
        var failed: [String: AgentError] = [:]
        for host in order {
            do throws(AgentError) {
                guard let agent = agents[host] else { throw AgentError.failed(host, "no agent") }
                try agent.go(goes[host] ?? [])
            } catch {
                failed[host] = error
            }
        }
        guard !failed.isEmpty else { return }
        for f in firings.indices {
            for (i, w) in firings[f].works.enumerated() where firings[f].armed != nil {
                if let e = failed[w.host] { firings[f].started[i] = .failure(e) }
            }
        }
    }

    /// The agent reverts a fault by itself if the runner has not by its end plus a grace.
    func ttl(of step: FaultStep) -> Nanos {
        let end = step.duration.map { step.at + $0 } ?? experiment.duration
        return end - step.at + experiment.settings.confirmTimeout + 5_000_000_000
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

    /// Reverts held faults by name (held faults whose durations end at one instant), at once.
    func revertTogether(_ names: [String]) {
        var due: [Held] = []
        for name in names {
            guard let i = held.firstIndex(where: { $0.step.name == name }) else { continue }
            due.append(held.remove(at: i))
        }
        let started = due.map(sendRevert)
        for (h, s) in zip(due, started) { finishRevert(h, s) }
    }

    /// Reverts everything still held, newest first.
    func revertAll() {
        while let h = held.popLast() { revert(h) }
    }

    /// Every host of the fault at once (a heal should be one instant, not a sweep); then, for
    /// kinds that prove it, that the effect is gone.
    func revert(_ h: Held) { finishRevert(h, sendRevert(h)) }

    func sendRevert(_ h: Held) -> [Result<Int, AgentError>] {
        let name = h.step.name
        let agents = self.agents
        return h.hosts.map { host in
            Result { () throws(AgentError) -> Int in
                guard let agent = agents[host] else { throw AgentError.failed(host, "no agent") }
                return try agent.start(.revert(name: name))
            }
        }
    }

    func finishRevert(_ h: Held, _ started: [Result<Int, AgentError>]) {
        let name = h.step.name
        let agents = self.agents
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
        let calls = AgentCalls({ host, op in try? agents[host]?.call(op, timeout: 10_000_000_000) }, lost: { [lost] in lost.value[$0] })
        guard let check = h.driver.confirmRevertedAny(h.works, calls) else { return }
        if check.problems.isEmpty {
            emit(.revertConfirmed(fault: h.step.name, detail: check.detail))
        } else {
            journal.residue += check.problems.map { "\(h.step.name): \($0)" }
            emit(.revertUnconfirmed(fault: h.step.name, problems: check.problems))
        }
    }
}
