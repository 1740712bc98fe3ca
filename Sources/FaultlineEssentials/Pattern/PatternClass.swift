/// Bracket expressions (`[a-z_]`, `[^/]`, `[[:digit:]]`) and escapes (`\d`, `\x41`, `\.`).
enum PatternClass {
    static let posix: [String: ScalarSet] = [
        "alpha": ScalarSet([65...90, 97...122]), "digit": .digit, "alnum": ScalarSet([48...57, 65...90, 97...122]),
        "upper": ScalarSet([65...90]), "lower": ScalarSet([97...122]), "space": .space, "blank": ScalarSet([9...9, 32...32]),
        "punct": ScalarSet([33...47, 58...64, 91...96, 123...126]), "xdigit": ScalarSet([48...57, 65...70, 97...102]),
        "word": .word, "cntrl": ScalarSet([0...31, 127...127]), "print": ScalarSet([32...126]), "graph": ScalarSet([33...126]),
    ]

    /// After `[`: up to and including its `]`.
    static func parse(_ p: inout PatternParser, flags: PatternParser.Flags) throws(PatternError) -> ScalarSet {
        let start = p.at - 1
        var negated = false
        if p.peek == PatternParser.c("^") {
            negated = true
            p.at += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let ch = p.peek else { throw p.fail("unterminated '[': a set needs its ']'", at: start) }
            if ch == PatternParser.c("]"), !first {
                p.at += 1
                break
            }
            first = false
            if ch == PatternParser.c("["), p.peek(1) == PatternParser.c(":") {
                ranges += try posixClass(&p).ranges
                continue
            }
            if ch == PatternParser.c("[") { throw p.fail("nested sets ('[' inside '[…]') are not supported; escape it as '\\['") }
            if ch == PatternParser.c("&"), p.peek(1) == PatternParser.c("&") {
                throw p.fail("set intersection ('&&') is not supported; escape it as '\\&'")
            }
            let lo: UInt32
            if ch == PatternParser.c("\\") {
                let at = p.at
                p.at += 1
                if p.peek == PatternParser.c("b") { throw p.fail("'\\b' inside a set is ambiguous; write '\\x08'", at: at) }
                if let set = try escapedSet(&p, start: at) {
                    ranges += set.ranges
                    continue
                }
                lo = try escapedScalar(&p, start: at)
            } else {
                p.at += 1
                lo = ch
            }
            // A range `a-z`; a '-' before the closing ']' is itself.
            if p.peek == PatternParser.c("-"), let next = p.peek(1), next != PatternParser.c("]") {
                let dash = p.at
                p.at += 1
                let hi: UInt32
                if next == PatternParser.c("\\") {
                    let at = p.at
                    p.at += 1
                    if try escapedSet(&p, start: at) != nil { throw p.fail("a range cannot end in a class like '\\d'", at: at) }
                    hi = try escapedScalar(&p, start: at)
                } else if next == PatternParser.c("[") {
                    throw p.fail("a range cannot end in '['", at: dash)
                } else {
                    p.at += 1
                    hi = next
                }
                guard lo <= hi else { throw p.fail("range out of order", at: dash) }
                ranges.append(lo...hi)
            } else {
                ranges.append(lo...lo)
            }
        }
        var set = ScalarSet(ranges)
        if flags.caseless { set = set.caseFolded }
        return negated ? set.inverted : set
    }

    static func posixClass(_ p: inout PatternParser) throws(PatternError) -> ScalarSet {
        let start = p.at
        p.at += 2
        var name = ""
        while let c = p.peek, c != PatternParser.c(":"), name.count < 10 {
            name.unicodeScalars.append(Unicode.Scalar(c) ?? "?")
            p.at += 1
        }
        guard p.peek == PatternParser.c(":"), p.peek(1) == PatternParser.c("]") else {
            throw p.fail("a POSIX class is written '[:name:]'", at: start)
        }
        p.at += 2
        var negated = false
        if name.hasPrefix("^") {
            negated = true
            name.removeFirst()
        }
        guard let set = posix[name] else {
            throw p.fail("unknown POSIX class '[:\(name):]' (valid: \(posix.keys.sorted().joined(separator: ", ")))", at: start)
        }
        return negated ? set.inverted : set
    }

    /// `\d \D \w \W \s \S` (p.at on the letter, consumed); nil for any other escape (not consumed).
    static func escapedSet(_ p: inout PatternParser, start: Int) throws(PatternError) -> ScalarSet? {
        guard let e = p.peek else { throw p.fail("the pattern ends with a lone '\\'", at: start) }
        let set: ScalarSet
        switch e {
        case PatternParser.c("d"): set = .digit
        case PatternParser.c("D"): set = ScalarSet.digit.inverted
        case PatternParser.c("w"): set = .word
        case PatternParser.c("W"): set = ScalarSet.word.inverted
        case PatternParser.c("s"): set = .space
        case PatternParser.c("S"): set = ScalarSet.space.inverted
        case PatternParser.c("p"), PatternParser.c("P"):
            throw p.fail("Unicode property classes ('\\p{…}') are not supported; use a range like [a-zA-Z]", at: start)
        default: return nil
        }
        p.at += 1
        return set
    }

    /// One escaped scalar (p.at on the character after `\`, consumed).
    static func escapedScalar(_ p: inout PatternParser, start: Int) throws(PatternError) -> UInt32 {
        guard let e = p.peek else { throw p.fail("the pattern ends with a lone '\\'", at: start) }
        p.at += 1
        switch e {
        case PatternParser.c("t"): return 9
        case PatternParser.c("n"): return 10
        case PatternParser.c("v"): return 11
        case PatternParser.c("f"): return 12
        case PatternParser.c("r"): return 13
        case PatternParser.c("a"): return 7
        case PatternParser.c("e"): return 27
        case PatternParser.c("0"): return 0
        case PatternParser.c("x"):
            if p.peek == PatternParser.c("{") {
                p.at += 1
                let v = try hex(&p, start: start, min: 1, max: 6)
                guard p.peek == PatternParser.c("}") else { throw p.fail("'\\x{' needs its '}'", at: start) }
                p.at += 1
                return try scalar(v, &p, start)
            }
            return try scalar(hex(&p, start: start, min: 2, max: 2), &p, start)
        case PatternParser.c("u"): return try scalar(hex(&p, start: start, min: 4, max: 4), &p, start)
        case 49...57: throw p.fail("backreferences ('\\\(e - 48)') are not supported", at: start)
        case PatternParser.c("k"): throw p.fail("named backreferences ('\\k') are not supported", at: start)
        default:
            let isLetterOrDigit = (48...57).contains(e) || (65...90).contains(e) || (97...122).contains(e)
            guard !isLetterOrDigit else {
                throw p.fail("'\\\(String(Unicode.Scalar(e)!))' is not an escape this engine knows; write the character itself", at: start)
            }
            return e
        }
    }

    static func hex(_ p: inout PatternParser, start: Int, min: Int, max: Int) throws(PatternError) -> UInt32 {
        var v: UInt32 = 0
        var n = 0
        while n < max, let c = p.peek, let d = hexDigit(c) {
            v = v * 16 + d
            n += 1
            p.at += 1
        }
        guard n >= min else { throw p.fail("a hexadecimal escape needs \(min == max ? "\(min)" : "at least \(min)") digits", at: start) }
        return v
    }

    static func hexDigit(_ c: UInt32) -> UInt32? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    static func scalar(_ v: UInt32, _ p: inout PatternParser, _ start: Int) throws(PatternError) -> UInt32 {
        guard Unicode.Scalar(v) != nil else { throw p.fail("'\\x{\(String(v, radix: 16))}' is not a Unicode scalar", at: start) }
        return v
    }
}
