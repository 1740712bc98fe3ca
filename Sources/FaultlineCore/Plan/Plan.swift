/// The resolved schedule of a run: what happens where and when. Pure.
public struct Plan: Sendable {
    public struct Step: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case inject(FaultStep)
            case revert(FaultStep)
            case action(ActionStep)
        }
        public var at: Nanos
        public var kind: Kind
    }

    public var experiment: Experiment
    /// Injections, reverts and actions ordered by time (reverts before injections at one instant).
    public var steps: [Step]

    public init(_ e: Experiment) {
        experiment = e
        var steps: [Step] = []
        for f in e.faults {
            steps.append(Step(at: f.at, kind: .inject(f)))
            // A held fault without a duration is reverted with everything else at the end.
            if case .held = f.holding, let d = f.duration {
                steps.append(Step(at: f.at + d, kind: .revert(f)))
            }
        }
        steps += e.actions.map { Step(at: $0.at, kind: .action($0)) }
        self.steps = steps.enumerated().sorted { a, b in
            if a.element.at != b.element.at { return a.element.at < b.element.at }
            if a.element.kind.isRevert != b.element.kind.isRevert { return a.element.kind.isRevert }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Fault windows for availability, clamped to the run.
    public var faultWindows: [Range<Nanos>] { experiment.faults.map { $0.window(experimentDuration: experiment.duration) } }

    /// The text `--dry-run` prints. Text from the file has its control characters escaped, so
    /// no value can add or repaint a line; `notes` may add a line under a fault (what it
    /// matches now).
    public func render(notes: (FaultStep) -> String? = { _ in nil }) -> String {
        let e = experiment
        let safe = ShownText.controlsEscaped
        var out = "plan for '\(safe(e.title))' (\(safe(e.source)))\n"
        out += "  hosts: \(e.hosts.map { "\($0.name) (\($0.ssh?.summary ?? $0.transport.rawValue))" }.joined(separator: ", "))\n"
        if !e.proxies.isEmpty {
            out += "  proxies (started before the steady state, stopped at the end):\n"
            for p in e.proxies { out += "    - \(p.name): \(safe(p.listen)) → \(safe(p.upstream)) (on \(p.host))\n" }
        }
        out += "  steady state (before and after): \(e.steadyState.isEmpty ? "none" : "")\n"
        for p in e.steadyState { out += "    - \(safe(p.name)): \(safe(p.summary))\n" }
        out += "  continuous probes: \(e.probes.isEmpty ? "none" : "")\n"
        for p in e.probes {
            out += "    - \(safe(p.name)) every \(DurationText.format(p.interval ?? 0)): \(safe(p.summary))\n"
        }
        if let w = e.workload {
            out += "  workload: \(safe(describe(w.client))) at \(w.rate) from \(w.concurrency) client(s)"
            out +=
                w.replicas.isEmpty
                ? "\n"
                : "; final read of \(safe(w.replicas.joined(separator: ", "))) within \(DurationText.format(w.convergeWithin)) of the heal\n"
        }
        out += "  timeline (\(DurationText.format(e.duration)) from the first injection phase):\n"
        if steps.isEmpty { out += "    (nothing scheduled)\n" }
        for s in steps {
            out += "    +\(DurationText.format(s.at))\t\(safe(describe(s)))\n"
            if case .inject(let f) = s.kind, let note = notes(f) { out += "    \t  \(safe(note))\n" }
        }
        out += "    +\(DurationText.format(e.duration))\trevert everything still held, in reverse order\n"
        out += "  rollbacks: \(e.rollbacks.isEmpty ? "none" : safe(e.rollbacks.map { $0.command.description }.joined(separator: "; ")))\n"
        out += "  expectations: \(e.expectations.isEmpty ? "none" : "")\n"
        for x in e.expectations { out += "    - \(safe(x.description))\n" }
        out += safety()
        out += "  stop when: \(e.stopConditions.isEmpty ? "a halt only" : "(any of these, judged on every sample of the phase)")\n"
        for c in e.stopConditions { out += "    - \(safe(c.description))\n" }
        if !e.stopConditions.isEmpty { out += "    then: every held fault reverted at once, rollbacks run, verdict aborted (exit 3)\n" }
        return out
    }

    /// The guard's arithmetic: at each instant a fault begins, what the faults holding take.
    func safety() -> String {
        let g = BlastGuard(experiment)
        guard g.isActive else { return "" }
        let safe = ShownText.controlsEscaped
        let s = experiment.safety
        var limits = g.groups.filter(\.quorum).map {
            "quorum \($0.name) [\($0.hosts.joined(separator: ", "))] needs \($0.hosts.count / 2 + 1)"
        }
        if let m = s.maxHosts { limits.append("at most \(m) host\(m == 1 ? "" : "s") at once") }
        if let m = s.maxShare { limits.append("at most \(PercentText.format(m)) of a group") }
        if s.quorumLossIntended { limits.append("quorum loss intended") }
        var out = "  safety: \(safe(limits.joined(separator: "; ")))\n"
        for i in g.instants(experiment) {
            let ev = i.evaluation
            let hosts = ev.taken.keys.sorted()
            var parts = [
                "\(hosts.count) host\(hosts.count == 1 ? "" : "s") faulted\(hosts.isEmpty ? "" : " (\(hosts.joined(separator: ", ")))")"
            ]
            for (group, taken) in ev.shares where group.quorum || s.maxShare != nil {
                let size = group.hosts.count
                let left = size - taken.count
                parts.append(
                    group.quorum
                        ? "\(group.name) \(taken.count) of \(size), \(left) left \(left >= size / 2 + 1 ? "≥" : "<") \(size / 2 + 1)"
                        : "\(group.name) \(taken.count) of \(size)")
            }
            let verdict = ev.problems.isEmpty ? "" : ": REFUSED"
            out +=
                "    +\(DurationText.format(i.at))\t\(safe(i.starting.joined(separator: ", "))): \(safe(parts.joined(separator: "; ")))\(verdict)\n"
        }
        let roles = experiment.faults.filter { $0.spec.role != nil }.map(\.name)
        if !roles.isEmpty { out += "    checked again when they fire (a role picks the host): \(safe(roles.joined(separator: ", ")))\n" }
        return out
    }

    func describe(_ c: WorkloadClient) -> String {
        switch c {
        case .redis(let r):
            let target = r.address ?? "the primary Sentinel names (\(r.sentinels.joined(separator: ", ")))"
            let ops = r.mode == .set ? "RPUSH \(r.key)" : "SET/GET on \(r.keys) keys (\(Int(r.readShare * 100))% reads)"
            return "redis \(ops) to \(target)"
        case .postgres(let p): return "postgres INSERT INTO \(p.table) via '\(p.connection)'"
        case .http(let h): return "http \(h.method) \(h.url)" + (h.backendHeader.map { ", backend from header \($0)" } ?? "")
        case .command(let c): return "command '\(c.write)'"
        case .etcd(let e):
            return
                "etcd put/range on \(e.keys) keys \(e.key)0… (\(Int(e.readShare * 100))% reads, \(e.serializable ? "serializable: from the member's copy" : "confirmed with the leader")) via \(e.endpoints.joined(separator: ", "))"
        }
    }

    func describe(_ s: Step) -> String {
        switch s.kind {
        case .inject(let f): return f.spec.describe(f, HostSet(experiment))
        case .revert(let f): return f.spec.describeRevert(f)
        case .action(let a): return "run \(a.command) [\(a.name)]"
        }
    }
}

extension Plan.Step.Kind {
    var isRevert: Bool {
        if case .revert = self { return true }
        return false
    }
}
