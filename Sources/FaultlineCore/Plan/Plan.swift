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
            if f.spec.kind == "pause" || f.spec.kind == "partition", let d = f.duration {
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

    /// The text `--dry-run` prints.
    public func render() -> String {
        let e = experiment
        var out = "plan for '\(e.title)' (\(e.source))\n"
        out += "  hosts: \(e.hosts.map { "\($0.name) (\($0.transport.rawValue))" }.joined(separator: ", "))\n"
        out += "  steady state (before and after): \(e.steadyState.isEmpty ? "none" : "")\n"
        for p in e.steadyState { out += "    - \(p.name): \(p.summary)\n" }
        out += "  continuous probes: \(e.probes.isEmpty ? "none" : "")\n"
        for p in e.probes {
            out += "    - \(p.name) every \(DurationText.format(p.interval ?? 0)): \(p.summary)\n"
        }
        if let w = e.workload {
            out += "  workload: \(describe(w.client)) at \(w.rate) from \(w.concurrency) client(s)"
            out +=
                w.replicas.isEmpty
                ? "\n"
                : "; final read of \(w.replicas.joined(separator: ", ")) within \(DurationText.format(w.convergeWithin)) of the heal\n"
        }
        out += "  timeline (\(DurationText.format(e.duration)) from the first injection phase):\n"
        if steps.isEmpty { out += "    (nothing scheduled)\n" }
        for s in steps {
            out += "    +\(DurationText.format(s.at))\t\(describe(s))\n"
        }
        out += "    +\(DurationText.format(e.duration))\trevert everything still held, in reverse order\n"
        out += "  rollbacks: \(e.rollbacks.isEmpty ? "none" : e.rollbacks.map { $0.command.description }.joined(separator: "; "))\n"
        out += "  expectations: \(e.expectations.isEmpty ? "none" : "")\n"
        for x in e.expectations { out += "    - \(Self.describe(x))\n" }
        return out
    }

    static func `where`(_ p: ProcessFault) -> String {
        guard let r = p.role else { return p.host }
        return "the host with role '\(r.role)' (resolved when the fault fires by: \(r.resolve))"
    }

    /// The lab hosts faults may span.
    var labHosts: [String] { experiment.hosts.filter { $0.transport == .lab }.map(\.name) }

    func describe(_ c: WorkloadClient) -> String {
        switch c {
        case .redis(let r):
            let target = r.address ?? "the primary Sentinel names (\(r.sentinels.joined(separator: ", ")))"
            let ops = r.mode == .set ? "RPUSH \(r.key)" : "SET/GET on \(r.keys) keys (\(Int(r.readShare * 100))% reads)"
            return "redis \(ops) to \(target)"
        case .postgres(let p): return "postgres INSERT INTO \(p.table) via '\(p.connection)'"
        case .http(let h): return "http \(h.method) \(h.url)" + (h.backendHeader.map { ", backend from header \($0)" } ?? "")
        case .command(let c): return "command '\(c.write)'"
        }
    }

    func describe(_ s: Step) -> String {
        switch s.kind {
        case .inject(let f):
            switch f.spec {
            case .kill(let p): return "kill \(p.selector) on \(Self.where(p)) with SIG\(p.signalName) [\(f.name)]"
            case .pause(let p): return "pause \(p.selector) on \(Self.where(p)) for \(DurationText.format(f.duration ?? 0)) [\(f.name)]"
            case .partition(let p):
                let g = p.grudges(among: labHosts).sorted { $0.key < $1.key }.map { "\($0.key) drops \($0.value.joined(separator: ","))" }
                return "partition [\(f.name)]: \(g.joined(separator: "; "))"
            case .block(let b): return "block \(b.from.joined(separator: ",")) on \(b.host) [\(f.name)]"
            }
        case .revert(let f):
            return f.spec.kind == "partition" ? "heal '\(f.name)' (remove its nft tables)" : "continue (SIGCONT) what '\(f.name)' paused"
        case .action(let a): return "run \(a.command) [\(a.name)]"
        }
    }

    static func describe(_ x: Expectation) -> String {
        switch x {
        case .availability(let p, let min, let w): return "availability of \(p) (\(w.rawValue)) ≥ \(PercentText.format(min))"
        case .recoveryTime(let p, let max, let f, let streak):
            return "\(p) recovers within \(DurationText.format(max)) of '\(f)' (\(streak) successes in a row)"
        case .errorWindow(let p, let max): return "longest error window of \(p) ≤ \(DurationText.format(max))"
        case .lostWrites(let max): return "at most \(max) acknowledged write(s) lost"
        case .converged(let c): return c ? "every replica holds the same data after the heal" : "replicas do not converge"
        case .loadBalancing(let l):
            var parts = ["'\(l.backend)' taken out by \(l.fault)"]
            if let t = l.ejectionWithin { parts.append("ejected within \(DurationText.format(t))") }
            if let v = l.evenness { parts.append("survivors even to \(PercentText.format(v))") }
            if let a = l.rejoin, let t = l.rejoinWithin { parts.append("back within \(DurationText.format(t)) of \(a)") }
            if let v = l.availability { parts.append("≥ \(PercentText.format(v)) of requests answered") }
            return "load balancing: " + parts.joined(separator: ", ")
        case .splitBrain(let allowed):
            return allowed ? "split brain allowed (measured only)" : "never two endpoints acknowledging writes at once"
        case .staleReads(let max): return "at most \(max) stale read(s)"
        case .healed(let f, let within): return "what \(f) killed is replaced by a new process within \(DurationText.format(within))"
        case .linearizable(let budget): return "every key's history linearizable (search budget \(DurationText.format(budget)))"
        }
    }
}

extension Plan.Step.Kind {
    var isRevert: Bool {
        if case .revert = self { return true }
        return false
    }
}
