import Yams

/// Reads `expect:`; each key takes one mapping or a list of them.
struct ExpectReader {
    let reader: NodeReader

    func read(_ node: Node, experiment e: Experiment) -> [Expectation] {
        let r = reader
        guard let f = r.fields(node, path: "expect", allowed: Expectation.keys, unknown: "expectation") else { return [] }
        var out: [Expectation] = []
        for key in Expectation.keys {
            guard let value = f.values[key] else { continue }
            let items: [(Node, String)]
            if case .sequence(let s) = value {
                items = s.enumerated().map { ($1, "expect.\(key)[\($0)]") }
            } else {
                items = [(value, "expect.\(key)")]
            }
            for (item, path) in items {
                if let x = expectation(key, item, path: path, experiment: e) { out.append(x) }
            }
        }
        return out
    }

    func expectation(_ key: String, _ node: Node, path: String, experiment e: Experiment) -> Expectation? {
        let r = reader
        switch key {
        case "availability":
            guard let f = r.fields(node, path: path, allowed: ["probe", "min", "window"]) else { return nil }
            let min = r.percent(f, "min", required: true)
            var window = AvailabilityWindow.all
            if let w = r.string(f, "window") {
                if let v = AvailabilityWindow(rawValue: w) {
                    window = v
                } else {
                    r.error(
                        f.values["window"],
                        "'\(f.child("window"))' must be one of all, faults, outside, got '\(w)' \(Suggest.hint(for: w, in: AvailabilityWindow.allCases.map(\.rawValue)))"
                    )
                }
            }
            guard let probe = probeName(f, e), let min else { return nil }
            return .availability(probe: probe, min: min, window: window)
        case "lost_writes":
            guard case .scalar(let s) = node, let n = Int(s.string), n >= 0 else {
                r.error(node, "'\(path)' must be a whole number of writes (usually 0), got \(NodeReader.describe(node))")
                return nil
            }
            if e.workload?.replicas.isEmpty ?? true {
                r.error(node, "'\(path)' needs a 'workload' that writes and lists 'replicas' to read at the end")
            } else if e.workload?.isRegister == true {
                r.error(node, "'\(path)' needs a set workload: registers are overwritten, so use 'stale_reads' or 'linearizable'")
            }
            return .lostWrites(max: n)
        case "converged":
            guard let b = YAMLText.plainBool(node) else {
                r.error(node, "'\(path)' must be true or false, got \(NodeReader.describe(node))")
                return nil
            }
            if e.workload == nil { r.error(node, "'\(path)' needs a 'workload' whose replicas are read") }
            return .converged(b)
        case "load_balancing":
            let keys = ["backend", "fault", "ejection_within", "evenness", "rejoin", "rejoin_within", "availability", "sticky"]
            guard let f = r.fields(node, path: path, allowed: keys) else { return nil }
            let backend = r.string(f, "backend", required: true)
            var fault = r.string(f, "fault")
            if fault == nil, let first = e.faults.first { fault = first.name }
            if fault == nil { r.error(node, "'\(path)' needs 'fault': the fault that takes the backend out") }
            var x = LoadBalancingExpectation(backend: backend ?? "", fault: fault ?? "")
            x.ejectionWithin = r.duration(f, "ejection_within")
            x.evenness = r.percent(f, "evenness")
            x.rejoin = r.string(f, "rejoin")
            x.rejoinWithin = r.duration(f, "rejoin_within")
            x.availability = r.percent(f, "availability")
            if let s = f.values["sticky"] {
                guard case .mapping = s, let sf = r.fields(s, path: f.child("sticky"), allowed: ["max_moved"]) else {
                    r.error(s, "'\(f.child("sticky"))' must be a mapping like {max_moved: 0%}")
                    return nil
                }
                x.maxMoved = r.percent(sf, "max_moved", required: true)
                if case .http(let h)? = e.workload?.client, h.keys == nil {
                    r.error(s, "'\(f.child("sticky"))' needs 'workload.http.keys' so requests carry keys ({key} in the URL)")
                }
            }
            if (x.rejoin == nil) != (x.rejoinWithin == nil) {
                r.error(node, "'\(path)' takes 'rejoin' (an action's name) and 'rejoin_within' together")
            }
            if case .http(let h)? = e.workload?.client, h.backendHeader != nil {
            } else {
                r.error(node, "'\(path)' needs an http 'workload' with 'backend_header' naming the backend that answered")
            }
            guard backend != nil, fault != nil else { return nil }
            return .loadBalancing(x)
        case "split_brain":
            guard let b = YAMLText.plainBool(node) else {
                r.error(
                    node, "'\(path)' must be true or false (false: never two primaries acknowledging), got \(NodeReader.describe(node))")
                return nil
            }
            if e.workload == nil { r.error(node, "'\(path)' needs a 'workload' that writes") }
            return .splitBrain(allowed: b)
        case "stale_reads", "linearizable":
            if e.workload?.isRegister != true {
                r.error(
                    node,
                    "'\(path)' needs a register workload (reads and writes of single keys): redis with 'mode: register', or postgres with 'registers'"
                )
            }
            if key == "stale_reads" {
                guard case .scalar(let s) = node, let n = Int(s.string), n >= 0 else {
                    r.error(node, "'\(path)' must be a whole number of reads (usually 0), got \(NodeReader.describe(node))")
                    return nil
                }
                return .staleReads(max: n)
            }
            if let b = YAMLText.plainBool(node) {
                if !b { r.error(node, "'\(path)' can only be claimed: true, or {budget: 10s}") }
                return .linearizable(budget: 10_000_000_000)
            }
            guard let f = r.fields(node, path: path, allowed: ["budget"], what: "true or a mapping with 'budget'") else { return nil }
            return .linearizable(budget: r.duration(f, "budget", positive: true) ?? 10_000_000_000)
        case "healed":
            guard let f = r.fields(node, path: path, allowed: ["fault", "within"]) else { return nil }
            let within = r.duration(f, "within", required: true)
            var fault = r.string(f, "fault")
            if fault == nil, let first = e.faults.first { fault = first.name }
            if let name = fault, let step = e.faults.first(where: { $0.name == name }) {
                if case .kill = step.spec {
                } else {
                    r.error(f.values["fault"] ?? node, "'\(path)' needs a 'kill' fault; '\(name)' is a \(step.spec.kind)")
                }
            } else {
                let names = e.faults.map(\.name)
                r.error(
                    f.values["fault"] ?? node,
                    "'\(path).fault' must name a kill fault, got '\(fault ?? "")' \(Suggest.hint(for: fault ?? "", in: names))")
            }
            guard let within, let fault else { return nil }
            return .healed(fault: fault, within: within)
        case "recovery_time":
            guard let f = r.fields(node, path: path, allowed: ["probe", "max", "fault", "streak"]) else { return nil }
            let max = r.duration(f, "max", required: true)
            let streak = r.int(f, "streak", range: 1...1_000_000) ?? 3
            var fault = r.string(f, "fault")
            if fault == nil {
                if let first = e.faults.first {
                    fault = first.name
                } else {
                    r.error(node, "'\(path)' measures recovery after a fault, but the experiment has no faults")
                }
            }
            guard let probe = probeName(f, e), let max, let fault else { return nil }
            return .recoveryTime(probe: probe, max: max, fault: fault, streak: streak)
        default:
            guard let f = r.fields(node, path: path, allowed: ["probe", "max"]) else { return nil }
            let max = r.duration(f, "max", required: true)
            guard let probe = probeName(f, e), let max else { return nil }
            return .errorWindow(probe: probe, max: max)
        }
    }

    /// The `probe:` key, or the only continuous probe when there is exactly one.
    func probeName(_ f: Fields, _ e: Experiment) -> String? {
        if let p = reader.string(f, "probe") {
            if p == ProbeSeries.workloadName, e.workload == nil {
                reader.error(f.values["probe"], "'\(f.child("probe"))' is 'workload', but the experiment has no 'workload'")
            }
            return p
        }
        if e.probes.count == 1 { return e.probes[0].name }
        let names = e.probes.map { "'\($0.name)'" }.joined(separator: ", ")
        reader.error(
            f.node,
            e.probes.isEmpty
                ? "'\(f.path)' needs a continuous probe, but 'probes' is empty"
                : "'\(f.path)' needs 'probe': one of \(names)")
        return nil
    }
}
