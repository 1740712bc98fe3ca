/// Checks that span several keys: names, references, timing, overlaps. Each fault kind checks
/// its own references (``FaultKind/validate(_:_:)``); expectations check theirs as they are read.
struct ExperimentValidator {
    let reader: NodeReader

    func validate(_ e: Experiment) {
        unique(e.probes.enumerated().map { ($1.name, path($1.path, "probes", $0)) })
        unique(e.steadyState.enumerated().map { ($1.name, path($1.path, "steady_state", $0)) })
        unique(
            e.faults.enumerated().map { ($1.name, path($1.path, "faults", $0)) }
                + e.actions.enumerated().map { ($1.name, path($1.path, "actions", $0)) })
        for (i, f) in e.faults.enumerated() {
            f.spec.validate(f, FaultValidation(experiment: e, path: path(f.path, "faults", i), reader: reader))
        }
        probeHosts(e)
        commandHosts(e)
        proxyHosts(e)
        markerSources(e)
        timing(e)
        overlaps(e)
        workloadSize(e)
        probeSamples(e)
        blastRadius(e)
    }

    /// `safety:` and the quorums: the hosts they name exist; no instant of the plan takes more
    /// than they allow (faults whose host a role picks are checked again when they fire).
    private func blastRadius(_ e: Experiment) {
        let names = HostSet(e).names
        var unknown = false
        for (q, list) in e.safety.quorums.sorted(by: { $0.key < $1.key }) {
            for h in list where !names.contains(h) {
                unknown = true
                reader.error(
                    path: "safety.quorums.\(q)",
                    "'safety.quorums.\(q)' names \(shown: h), which is not a host of the experiment \(Suggest.hint(for: h, in: names))")
            }
        }
        // A quorum with a host that is not there would only be judged wrongly.
        let guardian = BlastGuard(e)
        guard guardian.isActive, !unknown else { return }
        let cost = guardian.cost(e)
        guard cost <= BlastGuard.budget else {
            reader.error(
                path: "safety",
                "'safety' would need \(cost) checks (at each instant a fault begins: the faults holding then and the hosts of every group and quorum); at most \(BlastGuard.budget): fewer or shorter faults, or fewer groups"
            )
            return
        }
        for instant in guardian.instants(e) where !instant.evaluation.problems.isEmpty {
            guard let first = instant.starting.first, let i = e.faults.firstIndex(where: { $0.name == first }) else { continue }
            let f = e.faults[i]
            for p in instant.evaluation.problems {
                reader.error(path: path(f.path, "faults", i), "fault '\(f.name)' at \(DurationText.format(f.at)) takes too much: \(p)")
            }
        }
    }

    /// A marker reads the log of a service of a lab host: the host and the service must exist.
    private func markerSources(_ e: Experiment) {
        for m in e.markers {
            for h in m.hosts {
                guard let host = e.lab?.hosts.first(where: { $0.name == h }) else {
                    let labHosts = e.lab?.hosts.map(\.name) ?? []
                    let why =
                        e.lab == nil
                        ? "the experiment has no 'lab' (markers read lab services' logs)"
                        : "which is not a host of lab \(shown: e.lab?.name ?? "") \(Suggest.hint(for: h, in: labHosts))"
                    // `host:` or `hosts:`, whichever the file wrote (the other has no position).
                    let at = reader.marks["\(m.path).hosts"] != nil ? "\(m.path).hosts" : "\(m.path).host"
                    reader.error(path: at, "'\(m.path)' names host \(shown: h), \(why)")
                    continue
                }
                if !host.services.contains(where: { $0.name == m.service }) {
                    let names = host.services.map(\.name)
                    reader.error(
                        path: "\(m.path).service",
                        "'\(m.path).service' names \(shown: m.service), which is not a service of lab host \(shown: h) \(Suggest.hint(for: m.service, in: names))"
                    )
                }
            }
        }
    }

    /// Each proxy runs in the agent of a declared host.
    private func proxyHosts(_ e: Experiment) {
        let names = e.hosts.map(\.name)
        for p in e.proxies where !names.contains(p.host) {
            reader.error(
                path: "proxies.\(p.name).host",
                "'proxies.\(p.name).host' names host \(shown: p.host), which is not declared \(Suggest.hint(for: p.host, in: names))")
        }
    }

    /// A workload records every operation it issues: rate × duration of them, bounded.
    private func workloadSize(_ e: Experiment) {
        guard let w = e.workload else { return }
        let operations = w.rate.perSecond * Double(e.duration) / 1e9
        guard operations > Bounds.maxOperations else { return }
        reader.error(
            path: "workload.rate",
            "'workload.rate' \(w.rate) for the experiment's 'duration' \(DurationText.format(e.duration)) would record \(Int(operations)) operations; at most \(Int(Bounds.maxOperations)) (about 1 GB of history)"
        )
    }

    /// Continuous probes record every sample (about 210 bytes each in the journal): their
    /// samples over the fault phase, all probes together, are bounded as a workload's are.
    private func probeSamples(_ e: Experiment) {
        var total = 0.0
        for p in e.probes {
            guard let interval = p.interval, interval > 0 else { continue }
            total += Double(e.duration) / Double(interval)
        }
        guard total > Bounds.maxSamples, let first = e.probes.first else { return }
        let p = first.path.isEmpty ? "probes[0]" : first.path
        reader.error(
            path: p,
            "the 'probes' would record \(Int(total)) samples over the experiment's 'duration' \(DurationText.format(e.duration)) (each probe's duration ÷ interval, added up); at most \(Int(Bounds.maxSamples)) (about 1 GB of journal): sample less often or run shorter"
        )
    }

    /// Where an entry was written; entries built in code have no path and take their index.
    private func path(_ written: String, _ list: String, _ index: Int) -> String {
        written.isEmpty ? "\(list)[\(index)]" : written
    }

    /// Reports a name used twice; `entries` are (name, key path of its entry).
    private func unique(_ entries: [(String, String)]) {
        var seen = Set<String>()
        for (name, path) in entries where !seen.insert(name).inserted {
            reader.error(path: "\(path).name", "name \(shown: name) in '\(path)' is already used; names must be unique")
        }
    }

    private func probeHosts(_ e: Experiment) {
        let declared = e.hosts.map(\.name)
        for (list, probes) in [("steady_state", e.steadyState), ("probes", e.probes)] {
            for (i, p) in probes.enumerated() {
                guard case .process(let spec) = p.kind, !declared.contains(spec.host) else { continue }
                let path = "\(self.path(p.path, list, i)).process.host"
                reader.error(path: path, "unknown host \(shown: spec.host) in '\(path)' \(Suggest.hint(for: spec.host, in: declared))")
            }
        }
    }

    /// An action or rollback run `on` a host needs that host to be a lab host.
    private func commandHosts(_ e: Experiment) {
        let labHosts = HostSet(e).labHosts
        for (key, list) in [("actions", e.actions), ("rollbacks", e.rollbacks)] {
            for (i, a) in list.enumerated() {
                guard let on = a.on, !labHosts.contains(on) else { continue }
                let path = "\(self.path(a.path, key, i)).on"
                let valid = labHosts.isEmpty ? "(the experiment has no lab)" : Suggest.hint(for: on, in: labHosts)
                reader.error(path: path, "'\(path)' must name a lab host, got \(shown: on) \(valid)")
            }
        }
    }

    private func timing(_ e: Experiment) {
        guard e.duration > 0 else { return }
        let total = DurationText.format(e.duration)
        for (i, f) in e.faults.enumerated() {
            let p = path(f.path, "faults", i)
            if f.at >= e.duration {
                reader.error(path: "\(p).at", "'\(p).at' \(DurationText.format(f.at)) is not before the experiment's 'duration' \(total)")
            } else if let d = f.duration, f.at + d > e.duration {
                // Both are at most a week (``DurationText/ceiling``): the sum cannot overflow.
                reader.error(
                    path: "\(p).duration",
                    "fault \(shown: f.name) ends at \(DurationText.format(f.at + d)), after the experiment's 'duration' \(total)")
            }
        }
        for (i, a) in e.actions.enumerated() where a.at >= e.duration {
            let p = path(a.path, "actions", i)
            reader.error(path: "\(p).at", "'\(p).at' \(DurationText.format(a.at)) is not before the experiment's 'duration' \(total)")
        }
    }

    /// Faults in one exclusion group (the same processes of one host; any two partitions) may
    /// not hold at the same time; instants at the same instant overlap too. A sweep over each
    /// group in time order, O(n log n), with at most one message per fault.
    private func overlaps(_ e: Experiment) {
        var groups: [FaultExclusion: [Int]] = [:]
        for (i, f) in e.faults.enumerated() {
            if let x = f.spec.exclusion { groups[x, default: []].append(i) }
        }
        var reported = Set<Int>()
        for (exclusion, members) in groups.sorted(by: { $0.value[0] < $1.value[0] }) where members.count > 1 {
            let byStart = members.sorted { (e.faults[$0].at, $0) < (e.faults[$1].at, $1) }
            var longest = byStart[0]  // of those seen so far, the one that holds longest
            for (k, i) in byStart.enumerated().dropFirst() {
                let f = e.faults[i]
                let previous = byStart[k - 1]
                let other = e.faults[previous].at == f.at ? previous : f.at < end(longest, e) ? longest : nil
                if let other {
                    let (first, second) = (min(i, other), max(i, other))
                    if reported.insert(second).inserted {
                        reader.error(
                            path: path(e.faults[second].path, "faults", second),
                            "fault '\(e.faults[second].name)' overlaps '\(e.faults[first].name)' on \(exclusion.what); faults on one target must not overlap in time"
                        )
                    }
                }
                if end(i, e) > end(longest, e) { longest = i }
            }
        }
    }

    /// When fault `i` stops holding: an instant at once, a held fault after its duration or at the end.
    private func end(_ i: Int, _ e: Experiment) -> Nanos {
        let f = e.faults[i]
        return f.revertsAt(experimentDuration: e.duration) ?? f.at
    }
}
