import Yams

/// Reads `expect:`; each key takes one mapping or a list of them.
struct ExpectReader {
    let reader: NodeReader

    func read(_ node: Node, experiment e: Experiment) -> [Expectation] {
        let r = reader
        guard let f = r.fields(node, path: "expect", allowed: ExpectationKinds.keys, unknown: "expectation") else { return [] }
        let context = ExpectationContext(reader: r, experiment: e)
        var out: [Expectation] = []
        for kind in ExpectationKinds.registered {
            guard let value = f.values[kind.key] else { continue }
            let items: [(Node, String)]
            if case .sequence(let s) = value {
                items = s.enumerated().map { ($1, "expect.\(kind.key)[\($0)]") }
            } else {
                items = [(value, "expect.\(kind.key)")]
            }
            for (item, path) in items {
                r.remember(path, item)
                let before = r.diagnostics.count
                if let x = kind.read(item, path: path, context) {
                    out.append(Expectation(x))
                } else if r.diagnostics.count == before {
                    r.error(item, "'\(path)' could not be read, and no reason was found (a faultline bug: please report it)")
                }
            }
        }
        return out
    }
}
