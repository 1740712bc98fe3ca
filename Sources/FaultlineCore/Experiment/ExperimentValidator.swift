/// Checks that span several keys: names, references, timing, overlaps.
struct ExperimentValidator {
    let reader: NodeReader

    func validate(_ e: Experiment) {
        unique(e.probes.enumerated().map { ($1.name, "probes[\($0)]") })
        unique(e.steadyState.enumerated().map { ($1.name, "steady_state[\($0)]") })
        unique(e.faults.enumerated().map { ($1.name, "faults[\($0)]") } + e.actions.enumerated().map { ($1.name, "actions[\($0)]") })
        hostsExist(e)
        timing(e)
        overlaps(e)
        partitionHosts(e)
        roleHosts(e)
        references(e)
    }

    /// Reports a name used twice; `entries` are (name, key path of its entry).
    private func unique(_ entries: [(String, String)]) {
        var seen = Set<String>()
        for (name, path) in entries where !seen.insert(name).inserted {
            reader.error(path: "\(path).name", "name '\(name)' in '\(path)' is already used; names must be unique")
        }
    }

    private func hostsExist(_ e: Experiment) {
        let declared = e.hosts.map(\.name)
        for (i, f) in e.faults.enumerated() where f.spec.kind != "partition" && !isRoleTarget(f) && !declared.contains(f.spec.host) {
            let path = "faults[\(i)].\(f.spec.kind).host"
            reader.error(path: path, "unknown host '\(f.spec.host)' in '\(path)' \(Suggest.hint(for: f.spec.host, in: declared))")
        }
        for (list, probes) in [("steady_state", e.steadyState), ("probes", e.probes)] {
            for (i, p) in probes.enumerated() {
                guard case .process(let spec) = p.kind, !declared.contains(spec.host) else { continue }
                let path = "\(list)[\(i)].process.host"
                reader.error(path: path, "unknown host '\(spec.host)' in '\(path)' \(Suggest.hint(for: spec.host, in: declared))")
            }
        }
    }

    /// A role resolved "on" a host needs that host to be a lab host.
    private func roleHosts(_ e: Experiment) {
        let labHosts = e.hosts.filter { $0.transport == .lab }.map(\.name)
        for (i, f) in e.faults.enumerated() {
            let role: RoleTarget?
            switch f.spec {
            case .kill(let p), .pause(let p): role = p.role
            default: role = nil
            }
            guard let on = role?.on, !labHosts.contains(on) else { continue }
            let path = "faults[\(i)].\(f.spec.kind).host.on"
            reader.error(path: path, "'\(path)' must name a lab host, got '\(on)' \(Suggest.hint(for: on, in: labHosts))")
        }
        for (key, list) in [("actions", e.actions), ("rollbacks", e.rollbacks)] {
            for (i, a) in list.enumerated() {
                guard let on = a.on, !labHosts.contains(on) else { continue }
                let path = "\(key)[\(i)].on"
                let valid = labHosts.isEmpty ? "(the experiment has no lab)" : Suggest.hint(for: on, in: labHosts)
                reader.error(path: path, "'\(path)' must name a lab host, got '\(on)' \(valid)")
            }
        }
    }

    private func isRoleTarget(_ f: FaultStep) -> Bool {
        if case .kill(let p) = f.spec, p.role != nil { return true }
        if case .pause(let p) = f.spec, p.role != nil { return true }
        return false
    }

    private func timing(_ e: Experiment) {
        guard e.duration > 0 else { return }
        let total = DurationText.format(e.duration)
        for (i, f) in e.faults.enumerated() {
            if f.at >= e.duration {
                reader.error(
                    path: "faults[\(i)].at",
                    "'faults[\(i)].at' \(DurationText.format(f.at)) is not before the experiment's 'duration' \(total)")
            } else if let d = f.duration, f.at + d > e.duration {
                reader.error(
                    path: "faults[\(i)].duration",
                    "fault '\(f.name)' ends at \(DurationText.format(f.at + d)), after the experiment's 'duration' \(total)")
            }
        }
        for (i, a) in e.actions.enumerated() where a.at >= e.duration {
            reader.error(
                path: "actions[\(i)].at",
                "'actions[\(i)].at' \(DurationText.format(a.at)) is not before the experiment's 'duration' \(total)")
        }
    }

    /// Two faults on the same host and the same process selection may not hold at the same time.
    /// Faults on one target may not hold at the same time: the same processes of one host, or
    /// two partitions (their nft tables would combine into a cut nobody wrote).
    private func overlaps(_ e: Experiment) {
        for (j, b) in e.faults.enumerated() {
            for a in e.faults[..<j] {
                let bothPartitions = a.spec.kind == "partition" && b.spec.kind == "partition"
                guard bothPartitions || (a.spec.host == b.spec.host && selector(a) != nil && selector(a) == selector(b)) else { continue }
                // Kills are instants; pauses and partitions hold for their duration (a partition
                // without one holds to the end). Instants at the same time overlap too.
                let aEnd = a.at + hold(a, e)
                let bEnd = b.at + hold(b, e)
                guard a.at == b.at || (a.at < bEnd && b.at < aEnd) else { continue }
                let what =
                    bothPartitions ? "another partition" : "the same processes (\(selector(b)?.description ?? "")) of host '\(b.spec.host)'"
                reader.error(
                    path: "faults[\(j)]",
                    "fault '\(b.name)' overlaps '\(a.name)' on \(what); faults on one target must not overlap in time")
            }
        }
    }

    private func hold(_ f: FaultStep, _ e: Experiment) -> Nanos {
        switch f.spec.kind {
        case "pause": return f.duration ?? 0
        case "partition": return f.duration ?? (e.duration - f.at)
        default: return 0
        }
    }

    private func selector(_ f: FaultStep) -> ProcessSelector? {
        switch f.spec {
        case .kill(let p), .pause(let p): return p.selector
        case .partition, .block: return nil
        }
    }

    /// Partitions act among lab hosts only: cutting this machine would cut the runner.
    private func partitionHosts(_ e: Experiment) {
        let labHosts = e.hosts.filter { $0.transport == .lab }.map(\.name)
        for (i, f) in e.faults.enumerated() {
            guard case .partition(let p) = f.spec else { continue }
            let path = "faults[\(i)].partition"
            if labHosts.count < 2 {
                reader.error(path: path, "a partition needs at least two lab hosts; name a lab with 'lab:'")
                continue
            }
            for h in Set(p.namedHosts(among: labHosts)).sorted() where !labHosts.contains(h) {
                reader.error(path: path, "'\(path)' names '\(h)', which is not a lab host \(Suggest.hint(for: h, in: labHosts))")
            }
            switch p.shape {
            case .bridge, .majoritiesRing:
                if labHosts.count < 3 { reader.error(path: path, "'\(path)': this shape needs at least three lab hosts") }
            case .groups(let groups):
                let all = groups.flatMap { $0 }
                if Set(all).count != all.count { reader.error(path: path, "'\(path).groups' lists a host in more than one group") }
            default: break
            }
        }
    }

    private func references(_ e: Experiment) {
        let probes = e.probes.map(\.name) + (e.workload == nil ? [] : [ProbeSeries.workloadName])
        let faults = e.faults.map(\.name)
        for (i, x) in e.expectations.enumerated() {
            let (probe, fault): (String, String?)
            switch x {
            case .availability(let p, _, _), .errorWindow(let p, _): (probe, fault) = (p, nil)
            case .recoveryTime(let p, _, let f, _): (probe, fault) = (p, f)
            case .loadBalancing(let l):
                let base = path(of: x, index: i, in: e)
                if !faults.contains(l.fault) {
                    reader.error(path: base + ".fault", "unknown fault '\(l.fault)' in '\(base)' \(Suggest.hint(for: l.fault, in: faults))")
                }
                let actions = e.actions.map(\.name)
                if let a = l.rejoin, !actions.contains(a) {
                    reader.error(path: base + ".rejoin", "unknown action '\(a)' in '\(base)' \(Suggest.hint(for: a, in: actions))")
                }
                continue
            default: continue
            }
            let base = path(of: x, index: i, in: e)
            // A 'workload' named without one is reported where the key was read.
            if !probes.contains(probe), probe != ProbeSeries.workloadName {
                reader.error(path: base + ".probe", "unknown probe '\(probe)' in '\(base)' \(Suggest.hint(for: probe, in: probes))")
            }
            if let fault, !faults.contains(fault) {
                reader.error(path: base + ".fault", "unknown fault '\(fault)' in '\(base)' \(Suggest.hint(for: fault, in: faults))")
            }
        }
    }

    /// The key path an expectation was read from (`expect.availability` or `expect.availability[1]`).
    private func path(of x: Expectation, index: Int, in e: Experiment) -> String {
        let key = path(ofKind: x)
        let sameKind = e.expectations[..<index].filter { path(ofKind: $0) == key }.count
        return reader.marks["\(key)[0]"] != nil ? "\(key)[\(sameKind)]" : key
    }

    private func path(ofKind x: Expectation) -> String {
        switch x {
        case .availability: return "expect.availability"
        case .recoveryTime: return "expect.recovery_time"
        case .errorWindow: return "expect.error_window"
        case .lostWrites: return "expect.lost_writes"
        case .converged: return "expect.converged"
        case .loadBalancing: return "expect.load_balancing"
        case .splitBrain: return "expect.split_brain"
        case .staleReads: return "expect.stale_reads"
        case .linearizable: return "expect.linearizable"
        case .healed: return "expect.healed"
        }
    }
}
