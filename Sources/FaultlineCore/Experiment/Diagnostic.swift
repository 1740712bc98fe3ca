/// One problem found in an input file, at a line and column.
public struct Diagnostic: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COL: message`, the shape editors and CI annotators understand; always one
    /// line, whatever the file put into the message (values are also quoted and cut where the
    /// message is made).
    public var description: String {
        "\(ShownText.controlsEscaped(file)):\(line):\(column): \(ShownText.controlsEscaped(message))"
    }
}

/// Every problem of an input file at once; nothing runs while one exists.
public struct ValidationFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Close-match suggestions for misspelt keys and names.
public enum Suggest {
    /// The candidate closest to `word` if it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for c in candidates {
            let d = distance(lowered, c.lowercased())
            if d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        guard let (candidate, d) = best else { return nil }
        let limit = max(1, min(3, candidate.count / 3))
        return d <= limit || candidate.hasPrefix(lowered) && lowered.count >= 3 ? candidate : nil
    }

    /// `(did you mean 'x'?)` or the list of what would be valid.
    public static func hint(for word: String, in candidates: [String]) -> String {
        if candidates.isEmpty { return "(there are none)" }
        if let s = synonyms[word.lowercased()], candidates.contains(s) { return "(did you mean '\(s)'?)" }
        if let c = closest(to: word, in: candidates) { return "(did you mean '\(c)'?)" }
        return "(valid: \(candidates.joined(separator: ", ")))"
    }

    /// Words other chaos tools (tc, Toxiproxy, Chaos Mesh) use for what faultline names otherwise.
    static let synonyms = [
        "latency": "delay",  // check-kinds: field
        "bandwidth": "rate", "limit": "rate", "interface": "device", "iface": "device", "dev": "device",
        "destination": "to", "target": "to", "packet_loss": "loss", "loss_percent": "loss", "duplication": "duplicate",
        "corruption": "corrupt", "reordering": "reorder",
    ]

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a)
        let y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev2 = [Int](repeating: 0, count: y.count + 1)
        var prev = Array(0...y.count)
        var cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    cur[j] = min(cur[j], prev2[j - 2] + 1)
                }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[y.count]
    }
}
