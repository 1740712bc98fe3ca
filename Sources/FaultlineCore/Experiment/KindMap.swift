import Yams

extension NodeReader {
    /// A mapping of kind keys, each taking one mapping or a list of them (`expect:`,
    /// `stop_when:`), read in the order of `keys`; every entry is read or a problem reported.
    func kindMap<T>(_ node: Node, path: String, keys: [String], unknown: String, _ read: (String, Node, String) -> T?) -> [T] {
        guard let f = fields(node, path: path, allowed: keys, unknown: unknown) else { return [] }
        var out: [T] = []
        for key in keys {
            guard let value = f.values[key] else { continue }
            let items: [(Node, String)]
            if case .sequence(let s) = value {
                items = s.enumerated().map { ($1, "\(path).\(key)[\($0)]") }
            } else {
                items = [(value, "\(path).\(key)")]
            }
            for (item, itemPath) in items {
                remember(itemPath, item)
                let before = diagnostics.count
                if let x = read(key, item, itemPath) {
                    out.append(x)
                } else if diagnostics.count == before {
                    error(item, "'\(itemPath)' could not be read, and no reason was found (a faultline bug: please report it)")
                }
            }
        }
        return out
    }
}
