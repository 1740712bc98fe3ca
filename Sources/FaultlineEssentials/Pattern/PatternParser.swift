/// Reads a pattern's text into a `PatternNode`, refusing by name what the engine does not do.
struct PatternParser {
    static let maxLength = 1_024
    static let maxDepth = 64
    static let maxCount = 1_000

    struct Flags {
        var caseless = false
        var dotAll = false
        var multiline = false
    }

    let text: [UInt32]
    var at = 0
    var depth = 0

    init(_ pattern: String) { text = pattern.unicodeScalars.map(\.value) }

    static func parse(_ pattern: String) throws(PatternError) -> PatternNode {
        var p = PatternParser(pattern)
        guard p.text.count <= maxLength else { throw p.fail("a pattern is at most \(maxLength) characters, this one has \(p.text.count)") }
        var flags = Flags()
        let node = try p.alternation(&flags)
        if p.at < p.text.count { throw p.fail("unmatched ')'") }
        return node
    }

    func fail(_ message: String, at: Int? = nil) -> PatternError { PatternError(offset: (at ?? self.at) + 1, message: message) }
    var peek: UInt32? { at < text.count ? text[at] : nil }
    func peek(_ k: Int) -> UInt32? { at + k < text.count ? text[at + k] : nil }
    static func c(_ s: Unicode.Scalar) -> UInt32 { s.value }

    mutating func alternation(_ flags: inout Flags) throws(PatternError) -> PatternNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("groups nest more than \(Self.maxDepth) deep") }
        var branches = [try concat(&flags)]
        while peek == Self.c("|") {
            at += 1
            branches.append(try concat(&flags))
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    mutating func concat(_ flags: inout Flags) throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let ch = peek, ch != Self.c("|"), ch != Self.c(")") {
            let start = at
            guard var atom = try atom(&flags) else { continue }
            atom = try quantified(atom, start: start)
            items.append(atom)
        }
        return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
    }

    mutating func quantified(_ atom: PatternNode, start: Int) throws(PatternError) -> PatternNode {
        var node = atom
        var repeated = false
        while let q = peek {
            var bounds: (Int, Int?)
            switch q {
            case Self.c("*"): bounds = (0, nil)
            case Self.c("+"): bounds = (1, nil)
            case Self.c("?"): bounds = (0, 1)
            case Self.c("{"):
                guard let b = try counted() else { return node }
                bounds = b
            default: return node
            }
            if case .assertion = node { throw fail("a quantifier needs something to repeat, not an anchor") }
            if q != Self.c("{") { at += 1 }
            if peek == Self.c("?") {
                at += 1  // lazy: the same set of matches
            } else if peek == Self.c("+") {
                throw fail("possessive quantifiers ('\(String(Unicode.Scalar(q)!))+') are not supported")
            }
            if repeated { throw fail("a quantifier cannot follow another; group the first with (?:…)") }
            repeated = true
            node = .repetition(node, min: bounds.0, max: bounds.1)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}` (consumed); nil when the brace is a literal (`{` not followed by
    /// a count), as the other engines read it.
    mutating func counted() throws(PatternError) -> (Int, Int?)? {
        var k = at + 1
        func number(_ k: inout Int) -> Int? {
            var v = 0
            var digits = 0
            while k < text.count, (48...57).contains(text[k]) {
                v = min(v * 10 + Int(text[k] - 48), 1_000_000)
                digits += 1
                k += 1
            }
            return digits > 0 ? v : nil
        }
        guard let lo = number(&k) else { return nil }
        var hi: Int? = lo
        if k < text.count, text[k] == Self.c(",") {
            k += 1
            hi = number(&k)
        }
        guard k < text.count, text[k] == Self.c("}") else { return nil }
        let start = at
        at = k + 1
        guard lo <= Self.maxCount, (hi ?? 0) <= Self.maxCount else {
            throw fail("a counted repetition is at most {\(Self.maxCount)}", at: start)
        }
        if let hi, hi < lo { throw fail("{\(lo),\(hi)}: the maximum is below the minimum", at: start) }
        return (lo, hi)
    }

    /// One atom; nil for what matches nothing of its own (a flag group, a comment).
    mutating func atom(_ flags: inout Flags) throws(PatternError) -> PatternNode? {
        guard let ch = peek else { return nil }
        switch ch {
        case Self.c("("): return try group(&flags)
        case Self.c("["):
            at += 1
            let set = try PatternClass.parse(&self, flags: flags)
            return .set(set)
        case Self.c("."):
            at += 1
            return .any(dotAll: flags.dotAll)
        case Self.c("^"):
            at += 1
            return .assertion(flags.multiline ? .lineStart : .textStart)
        case Self.c("$"):
            at += 1
            return .assertion(flags.multiline ? .lineEnd : .textEnd)
        case Self.c("\\"): return try escape(flags)
        case Self.c("*"), Self.c("+"), Self.c("?"): throw fail("'\(String(Unicode.Scalar(ch)!))' has nothing to repeat")
        default:
            at += 1
            return literal(ch, flags)
        }
    }

    func literal(_ ch: UInt32, _ flags: Flags) -> PatternNode {
        guard flags.caseless else { return .scalar(ch) }
        let others = PatternCase.others(ch)
        return others.isEmpty ? .scalar(ch) : .set(ScalarSet(([ch] + others).map { $0...$0 }))
    }

    mutating func escape(_ flags: Flags) throws(PatternError) -> PatternNode? {
        let start = at
        at += 1
        guard let e = peek else { throw fail("the pattern ends with a lone '\\'", at: start) }
        switch e {
        case Self.c("b"):
            at += 1
            return .assertion(.wordBoundary)
        case Self.c("B"):
            at += 1
            return .assertion(.notWordBoundary)
        case Self.c("A"):
            at += 1
            return .assertion(.textStart)
        case Self.c("z"), Self.c("Z"):
            at += 1
            return .assertion(.textEnd)
        case Self.c("Q"):
            at += 1
            var items: [PatternNode] = []
            while let c = peek, !(c == Self.c("\\") && peek(1) == Self.c("E")) {
                items.append(literal(c, flags))
                at += 1
            }
            if peek != nil { at += 2 }
            return items.isEmpty ? nil : .concat(items)
        default:
            let set = try PatternClass.escapedSet(&self, start: start)
            if let set { return .set(flags.caseless ? set.caseFolded : set) }
            let scalar = try PatternClass.escapedScalar(&self, start: start)
            return literal(scalar, flags)
        }
    }

    mutating func group(_ flags: inout Flags) throws(PatternError) -> PatternNode? {
        let start = at
        at += 1
        var inner = flags
        if peek == Self.c("?") {
            at += 1
            guard let kind = peek else { throw fail("unterminated group", at: start) }
            switch kind {
            case Self.c(":"): at += 1
            case Self.c("="), Self.c("!"): throw fail("lookahead ('(?\(String(Unicode.Scalar(kind)!))') is not supported", at: start)
            case Self.c(">"): throw fail("atomic groups ('(?>') are not supported", at: start)
            case Self.c("#"):
                while let c = peek, c != Self.c(")") { at += 1 }
                guard peek != nil else { throw fail("unterminated comment", at: start) }
                at += 1
                return nil
            case Self.c("<") where peek(1) == Self.c("=") || peek(1) == Self.c("!"):
                throw fail("lookbehind ('(?<\(String(Unicode.Scalar(peek(1)!)!))') is not supported", at: start)
            case Self.c("<"), Self.c("P"), Self.c("'"):
                try skipGroupName(start: start)
            default:
                // Flags: (?ims-ims) for the rest of the enclosing group, or (?ims-ims:…) scoped.
                var on = true
                while let c = peek, c != Self.c(")"), c != Self.c(":") {
                    switch c {
                    case Self.c("i"): inner.caseless = on
                    case Self.c("s"): inner.dotAll = on
                    case Self.c("m"): inner.multiline = on
                    case Self.c("-"): on = false
                    default:
                        throw fail("'(?\(String(Unicode.Scalar(c)!))' is not a group or flag this engine knows (flags: i, m, s)")
                    }
                    at += 1
                }
                guard let end = peek else { throw fail("unterminated group", at: start) }
                at += 1
                if end == Self.c(")") {
                    flags = inner
                    return nil
                }
            }
        }
        let node = try alternation(&inner)
        guard peek == Self.c(")") else { throw fail("unterminated group: a '(' without its ')'", at: start) }
        at += 1
        return node
    }

    mutating func skipGroupName(start: Int) throws(PatternError) {
        if peek == Self.c("P") { at += 1 }
        let close = peek == Self.c("'") ? Self.c("'") : Self.c(">")
        guard peek == Self.c("<") || peek == Self.c("'") else { throw fail("'(?P' must be followed by '<name>'", at: start) }
        at += 1
        while let c = peek, c != close {
            guard c < 128, (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) || c == 95 else {
                throw fail("a group name is letters, digits and '_'", at: start)
            }
            at += 1
        }
        guard peek == close else { throw fail("unterminated group name", at: start) }
        at += 1
    }
}
