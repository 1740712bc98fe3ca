import FoundationEssentials

/// Encodes faultline's own files (journal, ledger, lab state) as JSON: keys in snake_case and
/// sorted, two-space pretty printing, slashes unescaped. The text is the same, byte for byte,
/// as Foundation's `JSONEncoder` with those options (`JSONTextTests` holds it to that).
///
/// Why not `JSONEncoder`: for every type it meets for the first time it asks the Swift runtime
/// whether the type conforms to a few of its private protocols, and each such question scans
/// every conformance record of this statically linked binary (about 6,500). Writing a run's
/// journal cost 1.5 ms that way, on the path between a run's end and its exit. This encoder
/// asks no such question: the few types with a special form (`Data`, `URL`, `Decimal`) are
/// recognised by their metatype, and dictionaries' keys by their coding-key type.
///
/// Differences from `JSONEncoder`, none of which faultline's types meet: keys are converted
/// only for ASCII letters; keys of a dictionary whose keys are not `String` are left as they
/// are; non-finite floating-point values throw.
public struct JSONText {
    /// One line with no whitespace (as `JSONEncoder` without `.prettyPrinted`): the agent
    /// protocol's form, one object per line.
    public var compact = false

    public init(compact: Bool = false) { self.compact = compact }

    public func encode<T: Encodable>(_ value: T) throws -> Data {
        Data(try text(value, indent: 0).utf8)
    }

    /// The text of `value` as it would stand `indent` levels deep in a pretty-printed file
    /// (its first line not indented): how a file assembled from parts encoded apart reads the
    /// same as one encoded whole.
    public func text<T: Encodable>(_ value: T, indent: Int) throws -> String {
        var out = ""
        out.reserveCapacity(compact ? 512 : 4096)
        let tree = try Self.tree(value, path: [])
        Self.write(tree, indent: compact ? nil : indent, into: &out)
        return out
    }

    /// Converts a key to snake_case the way `JSONEncoder.KeyEncodingStrategy.convertToSnakeCase`
    /// does, for ASCII letters: a word ends before each capital; in a run of capitals followed by
    /// a lowercase letter, the last capital starts the next word ("httpURLValue" →
    /// "http_url_value"); words are lowercased and joined with "_".
    public static func snakeCase(_ key: String) -> String {
        let c = Array(key.utf8)
        guard !c.isEmpty else { return key }
        func upper(_ i: Int) -> Bool { c[i] >= 65 && c[i] <= 90 }
        func lower(_ i: Int) -> Bool { c[i] >= 97 && c[i] <= 122 }
        var words: [Range<Int>] = []
        var wordStart = 0
        var search = 1
        while let u = (search..<max(search, c.count)).first(where: upper) {
            words.append(wordStart..<u)
            guard let l = (u..<c.count).first(where: lower) else {
                wordStart = u
                break
            }
            if l == u + 1 {
                wordStart = u
            } else {
                words.append(u..<(l - 1))
                wordStart = l - 1
            }
            search = l + 1
        }
        words.append(wordStart..<c.count)
        var out: [UInt8] = []
        out.reserveCapacity(c.count + words.count)
        for (n, w) in words.enumerated() {
            if n > 0 { out.append(UInt8(ascii: "_")) }
            for i in w { out.append(upper(i) ? c[i] + 32 : c[i]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - The tree

    /// A node of the document being built. Objects and arrays are boxes, because a container
    /// handed out by an encoder keeps adding to the node after the encoder returned it.
    enum Node {
        case scalar(String)  // already JSON text: a number, true, false, null or a quoted string
        case array(ArrayBox)
        case object(ObjectBox)
    }
    final class ArrayBox { var items: [Node] = [] }
    final class ObjectBox { var pairs: [String: Node] = [:] }

    static func tree<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Node {
        if T.self == Data.self, let data = value as? Data { return .scalar(quoted(data.base64EncodedString())) }
        if T.self == URL.self, let url = value as? URL { return .scalar(quoted(url.absoluteString)) }
        if T.self == Decimal.self, let d = value as? Decimal { return .scalar(d.description) }
        let encoder = TreeEncoder(path: path)
        try value.encode(to: encoder)
        return encoder.node ?? .object(ObjectBox())
    }

    /// The coding-key type `Dictionary` encodes with; keys of that type are not converted.
    static let dictionaryKeyType: ObjectIdentifier? = {
        let probe = KeyTypeProbe()
        try? ["": 0].encode(to: probe)
        return probe.seen
    }()

    static func key(_ k: some CodingKey) -> String {
        ObjectIdentifier(type(of: k)) == dictionaryKeyType ? k.stringValue : snakeCase(k.stringValue)
    }

    static func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ v: F, path: [any CodingKey]) throws -> String {
        guard v.isFinite else {
            throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) is not valid JSON"))
        }
        var s = v.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    // MARK: - Writing

    /// `s` as a JSON string literal (every control character escaped).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Writes `node` pretty-printed at depth `indent` (its first line not indented), or compact
    /// (one line, no whitespace) when `indent` is nil.
    static func write(_ node: Node, indent: Int?, into out: inout String) {
        let inner = indent.map { "\n" + String(repeating: "  ", count: $0 + 1) } ?? ""
        let closing = indent.map { "\n" + String(repeating: "  ", count: $0) } ?? ""
        let deeper = indent.map { $0 + 1 }
        switch node {
        case .scalar(let s): out += s
        case .array(let box):
            out += "["
            for (i, item) in box.items.enumerated() {
                out += (i > 0 ? "," : "") + inner
                write(item, indent: deeper, into: &out)
            }
            // An empty one keeps Foundation's layout: "[", a blank line, "]".
            out += (box.items.isEmpty && indent != nil ? "\n" : "") + closing + "]"
        case .object(let box):
            out += "{"
            for (i, k) in box.pairs.keys.sorted().enumerated() {
                out += (i > 0 ? "," : "") + inner + quoted(k) + (indent == nil ? ":" : " : ")
                write(box.pairs[k]!, indent: deeper, into: &out)
            }
            out += (box.pairs.isEmpty && indent != nil ? "\n" : "") + closing + "}"
        }
    }
}

// MARK: - Encoder and containers

private final class TreeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: JSONText.Node?

    init(path: [any CodingKey], node: JSONText.Node? = nil) {
        codingPath = path
        self.node = node
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: JSONText.ObjectBox
        if case .object(let b) = node {
            box = b
        } else {
            box = JSONText.ObjectBox()
            node = .object(box)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, path: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: JSONText.ArrayBox
        if case .array(let b) = node {
            box = b
        } else {
            box = JSONText.ArrayBox()
            node = .array(box)
        }
        return UnkeyedContainer(box: box, path: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: self) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: JSONText.ObjectBox
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }

    func put(_ text: String, _ key: Key) { box.pairs[JSONText.key(key)] = .scalar(text) }
    mutating func encodeNil(forKey key: Key) throws { put("null", key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(value ? "true" : "false", key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(JSONText.quoted(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try JSONText.number(value, path: path + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try JSONText.number(value, path: path + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(String(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(String(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box.pairs[JSONText.key(key)] = try JSONText.tree(value, path: path + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = JSONText.ObjectBox()
        box.pairs[JSONText.key(key)] = .object(child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: child, path: path + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = JSONText.ArrayBox()
        box.pairs[JSONText.key(key)] = .array(child)
        return UnkeyedContainer(box: child, path: path + [key])
    }

    mutating func superEncoder() -> any Encoder { slot("super", path) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { slot(JSONText.key(key), path + [key]) }

    /// A superclass's `encode(to:)` writes into an object under `name` (as `JSONEncoder` does
    /// when it encodes keyed, the usual case).
    private func slot(_ name: String, _ at: [any CodingKey]) -> any Encoder {
        let child = JSONText.ObjectBox()
        box.pairs[name] = .object(child)
        return TreeEncoder(path: at, node: .object(child))
    }
}

/// The scalar half of an unkeyed or single-value container: every value becomes JSON text
/// handed to `put`. (Keyed containers take a key with each value, so they spell theirs out.)
private protocol ScalarWriter {
    func put(_ text: String)
    /// Where the value being written sits, for an error.
    var valuePath: [any CodingKey] { get }
}

extension ScalarWriter {
    mutating func encodeNil() throws { put("null") }
    mutating func encode(_ value: Bool) throws { put(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { put(JSONText.quoted(value)) }
    mutating func encode(_ value: Double) throws { put(try JSONText.number(value, path: valuePath)) }
    mutating func encode(_ value: Float) throws { put(try JSONText.number(value, path: valuePath)) }
    mutating func encode(_ value: Int) throws { put(String(value)) }
    mutating func encode(_ value: Int8) throws { put(String(value)) }
    mutating func encode(_ value: Int16) throws { put(String(value)) }
    mutating func encode(_ value: Int32) throws { put(String(value)) }
    mutating func encode(_ value: Int64) throws { put(String(value)) }
    mutating func encode(_ value: UInt) throws { put(String(value)) }
    mutating func encode(_ value: UInt8) throws { put(String(value)) }
    mutating func encode(_ value: UInt16) throws { put(String(value)) }
    mutating func encode(_ value: UInt32) throws { put(String(value)) }
    mutating func encode(_ value: UInt64) throws { put(String(value)) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer, ScalarWriter {
    let box: JSONText.ArrayBox
    let path: [any CodingKey]
    var codingPath: [any CodingKey] { path }
    var count: Int { box.items.count }

    func put(_ text: String) { box.items.append(.scalar(text)) }
    var index: any CodingKey { IndexKey(intValue: box.items.count) }
    var valuePath: [any CodingKey] { path + [index] }
    mutating func encode<T: Encodable>(_ value: T) throws { box.items.append(try JSONText.tree(value, path: valuePath)) }

    /// Appends a container's node; the path of the slot it took.
    private func add(_ node: JSONText.Node) -> [any CodingKey] {
        let at = valuePath
        box.items.append(node)
        return at
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = JSONText.ObjectBox()
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: child, path: add(.object(child))))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = JSONText.ArrayBox()
        return UnkeyedContainer(box: child, path: add(.array(child)))
    }

    mutating func superEncoder() -> any Encoder {
        let child = JSONText.ObjectBox()
        return TreeEncoder(path: add(.object(child)), node: .object(child))
    }
}

private struct SingleContainer: SingleValueEncodingContainer, ScalarWriter {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func put(_ text: String) { encoder.node = .scalar(text) }
    var valuePath: [any CodingKey] { codingPath }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.node = try JSONText.tree(value, path: valuePath) }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue ?? 0)" }
    var intValue: Int?
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// Records the coding-key type a value's `encode(to:)` asks for, and nothing else.
private final class KeyTypeProbe: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var seen: ObjectIdentifier?
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        seen = ObjectIdentifier(type)
        return KeyedEncodingContainer(Discard<Key>())
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedContainer(box: JSONText.ArrayBox(), path: []) }
    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: TreeEncoder(path: [])) }
}

/// Accepts anything and keeps nothing (for `KeyTypeProbe`, which must not reach `JSONText.key`
/// while `dictionaryKeyType` is being initialised).
private struct Discard<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {}
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    { KeyedEncodingContainer(Discard<NestedKey>()) }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedContainer(box: JSONText.ArrayBox(), path: [])
    }
    mutating func superEncoder() -> any Encoder { TreeEncoder(path: []) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(path: []) }
}

/// The JSON of faultline's own files and of the agent's protocol: snake_case keys both ways.
public enum FaultlineJSON {
    /// snake_case keys, sorted, pretty printed: see `JSONText`.
    public static func encoder() -> JSONText { JSONText() }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
