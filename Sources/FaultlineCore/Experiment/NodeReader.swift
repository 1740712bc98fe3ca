import Yams

/// Reads a composed YAML/JSON node tree, collecting every problem with its position.
///
/// Readers never throw for bad input: they record a diagnostic and return `nil`, so a
/// whole file is checked in one pass.
final class NodeReader {
    let file: String
    /// How messages name the whole file: "the experiment", "the lab file".
    let document: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Where each key path was written, for checks made after reading.
    private(set) var marks: [String: Position] = [:]
    /// The experiment's `lab:` value, resolved after the rest is read.
    var labNode: Node?
    /// Problems of other files this one names (an inventory), each at its own FILE:LINE:COL,
    /// listed after this file's own.
    var others: [Diagnostic] = []

    init(file: String, document: String = "the experiment") {
        self.file = file
        self.document = document
    }

    /// The key path for messages; the top level is the document itself.
    func named(_ path: String) -> String {
        path.isEmpty ? String(document.hasPrefix("the ") ? document.dropFirst(4) : document[...]) : path
    }

    func error(_ node: Node?, _ message: String) {
        error(at: Position(node), message)
    }

    func error(at p: Position, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: p.line, column: p.column, message: message))
    }

    func error(path: String, _ message: String) {
        error(at: marks[path] ?? Position(line: 1, column: 1), message)
    }

    func remember(_ path: String, _ node: Node) {
        if node.mark != nil { marks[path] = Position(node) }
    }

    /// Describes what a node is, for "got …" in messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s): return quote(s.string)
        }
    }

    /// What a node is, without its value: for a file that may not be ours to show.
    static func kind(_ node: Node) -> String {
        if case .scalar = node { return "text (is this the right file?)" }
        return describe(node)
    }

    /// A value from the file, quoted for a message: escaped and cut (``ShownText``).
    static func quote(_ s: String) -> String { "\(shown: s)" }

    /// A mapping's pairs with YAML merge keys applied: `<<: *defaults` (or a list of aliases)
    /// adds the merged mappings' keys that the mapping does not set itself, earlier ones first.
    func merged(_ pairs: [(Node, Node)], path: String) -> [(Node, Node)] {
        var explicit: [(Node, Node)] = []
        var sources: [Node] = []
        for (k, v) in pairs {
            if case .scalar(let s) = k, s.string == "<<", s.style == .plain || s.style == .any {
                if case .sequence(let list) = v { sources += list } else { sources.append(v) }
            } else {
                explicit.append((k, v))
            }
        }
        guard !sources.isEmpty else { return explicit }
        var seen = Set(explicit.compactMap { $0.0.string })
        var out = explicit
        for source in sources {
            guard case .mapping(let m) = source else {
                error(
                    source,
                    "'<<' in '\(named(path))' must merge a mapping (an alias of one) or a list of them, got \(Self.describe(source))")
                continue
            }
            for (k, v) in merged(Array(m), path: path) {
                guard let key = k.string, seen.insert(key).inserted else { continue }
                out.append((k, v))
            }
        }
        return out
    }

    /// A mapping's fields, with unknown keys reported against `allowed`.
    func fields(_ node: Node, path: String, allowed: [String], what: String? = nil, unknown: String = "key") -> Fields? {
        remember(path, node)
        guard case .mapping(let mapping) = node else {
            // The top level of a file that is not what it should be: say what it is, never what it holds.
            let got = path.isEmpty ? Self.kind(node) : Self.describe(node)
            error(node, "\(path.isEmpty ? document : "'\(path)'") must be \(what ?? "a mapping"), got \(got)")
            return nil
        }
        var result = Fields(node: node, path: path)
        for (k, v) in merged(Array(mapping), path: path) {
            // `x-…` keys at the top level are the file's own (a home for anchors), as in Compose files.
            if path.isEmpty, case .scalar(let key) = k, key.string.hasPrefix("x-") { continue }
            guard case .scalar(let key) = k else {
                error(k, "keys in '\(path)' must be plain words, got \(Self.describe(k))")
                continue
            }
            guard allowed.contains(key.string) else {
                let hint = Suggest.hint(for: key.string, in: allowed)
                // A misspelt required key is reported once, as the misspelling.
                if let close = Suggest.closest(to: key.string, in: allowed) { result.misspelt.insert(close) }
                error(k, "unknown \(unknown) \(shown: key.string) in '\(named(path))' \(hint)")
                continue
            }
            result.values[key.string] = v
            result.keys[key.string] = k
            remember(result.child(key.string), v)
        }
        return result
    }

    // MARK: typed values

    func string(_ f: Fields, _ key: String, required: Bool = false) -> String? {
        guard let node = f.value(key, required: required, reader: self) else { return nil }
        guard case .scalar(let s) = node else {
            error(node, "'\(f.child(key))' must be text, got \(Self.describe(node))")
            return nil
        }
        return s.string
    }

    func int(_ f: Fields, _ key: String, range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let node = f.value(key, required: required, reader: self) else { return nil }
        guard case .scalar(let s) = node, let v = Int(s.string) else {
            error(node, "'\(f.child(key))' must be a whole number, got \(Self.describe(node))")
            return nil
        }
        guard range.contains(v) else {
            error(node, "'\(f.child(key))' must be between \(range.lowerBound) and \(range.upperBound), got '\(v)'")
            return nil
        }
        return v
    }

    func bool(_ f: Fields, _ key: String) -> Bool? {
        guard let node = f.value(key, required: false, reader: self) else { return nil }
        guard let b = YAMLText.plainBool(node) else {
            error(node, "'\(f.child(key))' must be true or false, got \(Self.describe(node))")
            return nil
        }
        return b
    }

    /// A duration such as `250ms`, at most `max`; `positive` rejects zero.
    func duration(
        _ f: Fields, _ key: String, required: Bool = false, positive: Bool = false, max: Nanos = DurationText.ceiling
    ) -> Nanos? {
        guard let node = f.value(key, required: required, reader: self) else { return nil }
        let path = f.child(key)
        guard case .scalar(let s) = node else {
            error(node, "'\(path)' must be a duration like '250ms', '5s' or '2m', got \(Self.describe(node))")
            return nil
        }
        switch DurationText.read(s.string, max: max) {
        case .success(let v):
            if positive, v <= 0 {
                error(node, "'\(path)' must be greater than 0, got \(Self.quote(s.string))")
                return nil
            }
            return v
        case .failure(.negative):
            error(node, "'\(path)' must not be negative, got \(Self.quote(s.string))")
        case .failure(.tooLarge(let bound)):
            error(node, "'\(path)' must be at most \(DurationText.format(bound)), got \(Self.quote(s.string))")
        case .failure(.unitsOutOfOrder):
            error(node, "'\(path)' must give each unit once, largest first (like '1m30s'), got \(Self.quote(s.string))")
        case .failure(.notADuration):
            error(node, "'\(path)' must be a duration like '250ms', '5s' or '2m', got \(Self.describe(node))")
        }
        return nil
    }

    func percent(_ f: Fields, _ key: String, required: Bool = false) -> Double? {
        guard let node = f.value(key, required: required, reader: self) else { return nil }
        guard case .scalar(let s) = node, let v = PercentText.parse(s.string) else {
            error(node, "'\(f.child(key))' must be a percentage from 0% to 100% like '99.9%', got \(Self.describe(node))")
            return nil
        }
        return v
    }

    func strings(_ f: Fields, _ key: String) -> [String]? {
        guard let node = f.value(key, required: false, reader: self) else { return nil }
        return stringList(node, path: f.child(key))
    }

    func stringList(_ node: Node, path: String) -> [String]? {
        guard case .sequence(let seq) = node else {
            error(node, "'\(path)' must be a list of text, got \(Self.describe(node))")
            return nil
        }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            guard case .scalar(let s) = item else {
                error(item, "'\(path)[\(i)]' must be text, got \(Self.describe(item))")
                return nil
            }
            out.append(s.string)
        }
        return out
    }

    /// Each item of a list read by `read`. An item `read` drops must have a diagnostic: one that
    /// returned nil and said nothing gets one here, so no entry ever vanishes silently.
    func each<T>(_ f: Fields, _ key: String, what: String, _ read: (Node, String, Int) -> T?) -> [T] {
        list(f, key, what: what).enumerated().compactMap { i, item in
            let before = diagnostics.count
            let value = read(item.0, item.1, i)
            if value == nil, diagnostics.count == before {
                error(item.0, "'\(item.1)' could not be read, and no reason was found (a faultline bug: please report it)")
            }
            return value
        }
    }

    /// Items of a list; a missing key is an empty list.
    func list(_ f: Fields, _ key: String, what: String) -> [(Node, String)] {
        guard let node = f.value(key, required: false, reader: self) else { return [] }
        guard case .sequence(let seq) = node else {
            error(node, "'\(f.child(key))' must be a list of \(what), got \(Self.describe(node))")
            return []
        }
        return seq.enumerated().map { (i, n) in
            let p = "\(f.child(key))[\(i)]"
            remember(p, n)
            return (n, p)
        }
    }
}

/// The known keys of one mapping node.
struct Fields {
    let node: Node
    let path: String
    var values: [String: Node] = [:]
    var keys: [String: Node] = [:]
    /// Allowed keys that an unknown key looked like a typo of.
    var misspelt: Set<String> = []

    init(node: Node, path: String) {
        self.node = node
        self.path = path
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { values[key] != nil }

    func value(_ key: String, required: Bool, reader: NodeReader) -> Node? {
        if let v = values[key] { return v }
        if required, !misspelt.contains(key) {
            reader.error(node, "missing required key '\(key)' in '\(reader.named(path))'")
        }
        return nil
    }
}

/// A 1-based line and column in an input file.
struct Position: Equatable {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ node: Node?) {
        self.init(line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }
}
