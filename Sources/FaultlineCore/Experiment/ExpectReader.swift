import Yams

/// Reads `expect:`; each key takes one mapping or a list of them.
struct ExpectReader {
    let reader: NodeReader

    func read(_ node: Node, experiment e: Experiment) -> [Expectation] {
        let context = ExpectationContext(reader: reader, experiment: e)
        let kinds = ExpectationKinds.registered
        return reader.kindMap(node, path: "expect", keys: ExpectationKinds.keys, unknown: "expectation") { key, item, path in
            kinds.first { $0.key == key }?.read(item, path: path, context).map { Expectation($0) }
        }
    }
}
