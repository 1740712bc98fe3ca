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
            if e.workload == nil { r.error(node, "'\(path)' needs a 'workload' that writes") }
            return .lostWrites(max: n)
        case "converged":
            guard case .scalar = node, let b = node.bool else {
                r.error(node, "'\(path)' must be true or false, got \(NodeReader.describe(node))")
                return nil
            }
            if e.workload == nil { r.error(node, "'\(path)' needs a 'workload' whose replicas are read") }
            return .converged(b)
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
        if let p = reader.string(f, "probe") { return p }
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
