import Yams

/// Reading an expectation from its node; internal, because the node reader is.
protocol ExpectationKindReader: ExpectationKind {
    /// Reads one expectation at `path` (`expect.availability[1]`); `nil` once a problem is reported.
    static func read(_ node: Node, path: String, _ c: ExpectationContext) -> Self?
}

/// The registry of expectation kinds: the one list of them. Their order is the order of the
/// checks in the journal and the report.
public enum ExpectationKinds {
    static let registered: [any ExpectationKindReader.Type] = [
        AvailabilityExpectation.self,
        RecoveryTimeExpectation.self,
        ErrorWindowExpectation.self,
        AddedLatencyExpectation.self,
        AddedValueExpectation.self,
        HealedExpectation.self,
        LostWritesExpectation.self,
        ConvergedExpectation.self,
        LoadBalancingExpectation.self,
        SplitBrainExpectation.self,
        StaleReadsExpectation.self,
        LinearizableExpectation.self,
    ]

    public static var all: [any ExpectationKind.Type] { registered }
    public static var keys: [String] { registered.map { $0.key } }
}

/// What an expectation's reader sees: the node reader, and the experiment read so far (its
/// probes, faults, actions and workload are known by then), with the checks of references.
struct ExpectationContext {
    let reader: NodeReader
    let experiment: Experiment

    /// `probe:`, or the only continuous probe when there is exactly one; an unknown name is reported.
    func probe(_ f: Fields) -> String? {
        let e = experiment
        if let p = reader.string(f, "probe") {
            if p == ProbeSeries.workloadName {
                if e.workload == nil {
                    reader.error(f.values["probe"], "'\(f.child("probe"))' is 'workload', but the experiment has no 'workload'")
                }
            } else if !e.probes.contains(where: { $0.name == p }) {
                let names = e.probes.map(\.name) + (e.workload == nil ? [] : [ProbeSeries.workloadName])
                reader.error(f.values["probe"], "unknown probe \(shown: p) in '\(f.path)' \(Suggest.hint(for: p, in: names))")
            }
            return p
        }
        if e.probes.count == 1 { return e.probes[0].name }
        let names = e.probes.map { "'\($0.name)'" }.joined(separator: ", ")
        reader.error(
            f.node,
            e.probes.isEmpty ? "'\(f.path)' needs a continuous probe, but 'probes' is empty" : "'\(f.path)' needs 'probe': one of \(names)")
        return nil
    }

    /// `fault:`, or the experiment's first fault; an unknown name is reported.
    func fault(_ f: Fields) -> String? {
        guard let name = reader.string(f, "fault") else { return experiment.faults.first?.name }
        let names = experiment.faults.map(\.name)
        if !names.contains(name) {
            reader.error(f.values["fault"], "unknown fault \(shown: name) in '\(f.path)' \(Suggest.hint(for: name, in: names))")
        }
        return name
    }

    /// `key:` naming an action; an unknown name is reported.
    func action(_ f: Fields, _ key: String) -> String? {
        guard let name = reader.string(f, key) else { return nil }
        let names = experiment.actions.map(\.name)
        if !names.contains(name) {
            reader.error(f.values[key], "unknown action \(shown: name) in '\(f.path)' \(Suggest.hint(for: name, in: names))")
        }
        return name
    }

    /// A whole number at least 0 written as the expectation's value (`lost_writes: 0`).
    func count(_ node: Node, path: String, of what: String) -> Int? {
        guard case .scalar(let s) = node, let n = Int(s.string), n >= 0 else {
            reader.error(node, "'\(path)' must be a whole number of \(what) (usually 0), got \(NodeReader.describe(node))")
            return nil
        }
        return n
    }

    /// Register-mode checks need reads and writes of single keys.
    func needsRegisters(_ node: Node, path: String) {
        guard experiment.workload?.isRegister != true else { return }
        reader.error(
            node,
            "'\(path)' needs a register workload (reads and writes of single keys): redis with 'mode: register', or postgres with 'registers'"
        )
    }
}
