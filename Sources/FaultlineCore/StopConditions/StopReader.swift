import Yams

/// Reads `stop_when:`: a mapping of condition kinds, each taking one mapping or a list of them.
struct StopReader {
    let reader: NodeReader

    func read(_ node: Node, experiment e: Experiment) -> [StopCondition] {
        let context = ExpectationContext(reader: reader, experiment: e)
        let kinds = StopConditionKinds.registered
        return reader.kindMap(node, path: "stop_when", keys: StopConditionKinds.keys, unknown: "stop condition") { key, item, path in
            kinds.first { $0.key == key }?.read(item, path: path, context).map { StopCondition($0) }
        }
    }
}
