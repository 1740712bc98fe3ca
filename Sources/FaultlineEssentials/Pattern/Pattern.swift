import CLinux

/// A regular expression matched in time linear in its input — faultline's own engine, used for
/// every pattern an experiment gives (`cmdline` selectors, `body_regex`), so that no pattern can
/// stall a probe, a fault's selection, or the reverts behind it.
///
/// The syntax is the part RE2, ICU and PCRE share: literals and escapes (`\.`, `\t`, `\x41`,
/// `\u00e9`, `\Q…\E`), `.`, sets (`[a-z_]`, `[^/]`, `[[:digit:]]`), `\d \w \s` and their
/// negations (ASCII, as in RE2), anchors `^ $ \A \z \b \B`, groups (capturing, `(?:…)`, named),
/// `|`, the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms accepted: they match the same texts),
/// and the flags `i`, `m`, `s` (`(?i)` or `(?i:…)`). Backreferences, lookaround, atomic groups
/// and possessive quantifiers are refused by name: they are what makes other engines take
/// exponential time. `$` matches at the end or before a final newline, as in ICU.
public struct Pattern: Sendable, Equatable {
    public let source: String
    let program: PatternProgram
    let literals: PatternLiterals
    /// The prefilter: a text without this literal cannot match.
    let needle: [UInt32]
    let failure: [Int]
    /// The needle in UTF-8, for a text given in UTF-8 too (a byte search, glibc's memmem).
    let needleUTF8: [UInt8]?

    /// Steps one match may take when the caller gives no budget: a probe's body of a megabyte
    /// against a pattern of a hundred instructions fits many times over.
    public static let defaultBudget = 200_000_000

    public init(_ source: String) throws(PatternError) {
        self.source = source
        let node = try PatternParser.parse(source)
        program = try PatternProgram.compile(node)
        literals = PatternLiterals.of(node)
        needle = literals.literal
        failure = Self.failureFunction(needle)
        let scalars = needle.compactMap(Unicode.Scalar.init)
        needleUTF8 = scalars.count == needle.count ? Array(String(String.UnicodeScalarView(scalars)).utf8) : nil
    }

    /// How many characters of its own literal text every match is held to: a measure of how
    /// specific the pattern is (`redis-server` 12; `^/`, `a.b` 1; `.`, `[a-z]+` 0).
    public var requiredLiteralLength: Int { literals.required }

    /// Whether `text` holds a match (anywhere, unless the pattern is anchored).
    public func matches(_ text: String) throws(PatternBudgetExceeded) -> Bool {
        var budget = Self.defaultBudget
        return try matches(text, budget: &budget)
    }

    /// The same, spending at most `budget` steps (decremented): one budget can cover a whole
    /// selection of many texts.
    public func matches(_ text: String, budget: inout Int) throws(PatternBudgetExceeded) -> Bool {
        try matches(scalars: text.unicodeScalars.map(\.value), budget: &budget)
    }

    /// The same, on a text given as its Unicode scalars' values.
    func matches(scalars: [UInt32], budget: inout Int) throws(PatternBudgetExceeded) -> Bool {
        budget -= scalars.count
        if budget < 0 { throw PatternBudgetExceeded() }
        if !needle.isEmpty, !contains(scalars) { return false }
        return try program.matches(scalars, budget: &budget)
    }

    /// The same on a text in (valid) UTF-8: the prefilter is a byte search, several times
    /// faster than the scalars' KMP over the many command lines of one selection, and linear as
    /// well (glibc's memmem is two-way); the text is decoded only when its literal is there.
    public func matches(utf8: [UInt8], budget: inout Int) throws(PatternBudgetExceeded) -> Bool {
        guard let needleUTF8, !needleUTF8.isEmpty else {
            return try matches(scalars: String(decoding: utf8, as: UTF8.self).unicodeScalars.map(\.value), budget: &budget)
        }
        budget -= utf8.count
        if budget < 0 { throw PatternBudgetExceeded() }
        let found = utf8.withUnsafeBytes { t in
            needleUTF8.withUnsafeBytes { n in faultline_memmem(t.baseAddress, t.count, n.baseAddress, n.count) }
        }
        guard found != nil else { return false }
        return try program.matches(String(decoding: utf8, as: UTF8.self).unicodeScalars.map(\.value), budget: &budget)
    }

    public static func == (a: Pattern, b: Pattern) -> Bool { a.source == b.source }

    /// Knuth–Morris–Pratt: linear whatever the needle and text.
    func contains(_ text: [UInt32]) -> Bool {
        var k = 0
        for c in text {
            while k > 0, needle[k] != c { k = failure[k - 1] }
            if needle[k] == c { k += 1 }
            if k == needle.count { return true }
        }
        return false
    }

    static func failureFunction(_ needle: [UInt32]) -> [Int] {
        var f = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in needle.indices.dropFirst() {
            while k > 0, needle[i] != needle[k] { k = f[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            f[i] = k
        }
        return f
    }
}
