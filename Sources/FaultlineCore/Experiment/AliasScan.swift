/// The aliases (`*name`) a YAML text uses, found by scanning the text before it is composed.
///
/// An alias used as a mapping key must be refused before composing: the composer hashes every
/// key for its duplicate check, and hashing a key that is an alias of nested aliases walks the
/// whole expansion, which for a few hundred bytes never ends. The scan skips comments, quoted
/// scalars and block scalars; `*` inside a plain scalar (`a*b`) is not an alias.
enum AliasScan {
    struct Result {
        /// How many aliases the text uses.
        var aliases = 0
        var firstAlias: (line: Int, column: Int)?
        /// The first key that is not a plain word — an alias (`*a: 1`), an explicit `? ` key or a
        /// collection (`[a]: 1`) — any of which could hold an alias the composer would expand.
        var complexKey: (line: Int, column: Int)?
    }

    static func scan(_ text: String) -> Result {
        let b = Array(text.utf8)
        var r = Result()
        var i = 0
        var line = 1
        var lineStart = 0
        var blockIndent: Int?  // inside a block scalar: lines indented more than this belong to it
        var explicitKey = false  // after a `? ` on this line
        // Columns are counted only for the positions reported (the first alias, the first
        // complex key): counting for every alias re-scanned its line each time, quadratic in a
        // line of 40,000 aliases.
        func column(_ k: Int) -> Int { b[lineStart..<k].filter { $0 & 0xC0 != 0x80 }.count + 1 }
        func isSpace(_ k: Int) -> Bool { k >= b.count || b[k] == 32 || b[k] == 9 || b[k] == 10 || b[k] == 13 }
        func isFlow(_ c: UInt8) -> Bool { c == 44 || c == 91 || c == 93 || c == 123 || c == 125 }
        /// A token may begin at `k`: at a line's start or after a space, a flow indicator, `-` or `?` + space.
        func tokenStart(_ k: Int) -> Bool { k == lineStart || isSpace(k - 1) || isFlow(b[k - 1]) }
        while i < b.count {
            // At a line's start: leave a block scalar when the indentation falls back.
            if i == lineStart, let indent = blockIndent {
                var k = i
                while k < b.count, b[k] == 32 { k += 1 }
                let blank = k >= b.count || b[k] == 10 || b[k] == 13
                if blank || k - i > indent {
                    while i < b.count, b[i] != 10 { i += 1 }
                    if i < b.count {
                        i += 1
                        line += 1
                        lineStart = i
                    }
                    continue
                }
                blockIndent = nil
            }
            let c = b[i]
            switch c {
            case 10:
                i += 1
                line += 1
                lineStart = i
                explicitKey = false
            case 35 where tokenStart(i):  // a comment runs to the end of the line
                while i < b.count, b[i] != 10 { i += 1 }
            case 39 where tokenStart(i), 34 where tokenStart(i):  // a quoted scalar, maybe over lines
                i += 1
                while i < b.count {
                    if b[i] == 10 {
                        line += 1
                        lineStart = i + 1
                    }
                    if c == 34, b[i] == 92 {
                        i += 2
                        continue
                    }
                    if b[i] == c {
                        if c == 39, i + 1 < b.count, b[i + 1] == 39 {
                            i += 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                i += 1
            case 124 where tokenStart(i), 62 where tokenStart(i):  // `|` or `>` ending a line opens a block scalar
                var k = i + 1
                while k < b.count, b[k] == 43 || b[k] == 45 || (49...57).contains(b[k]) { k += 1 }
                while k < b.count, b[k] == 32 || b[k] == 9 { k += 1 }
                if k >= b.count || b[k] == 10 || b[k] == 13 || b[k] == 35 {
                    var indent = 0
                    while lineStart + indent < b.count, b[lineStart + indent] == 32 { indent += 1 }
                    blockIndent = indent
                }
                i = k
            case 63 where tokenStart(i) && isSpace(i + 1):
                explicitKey = true
                if r.complexKey == nil { r.complexKey = (line, column(i)) }
                i += 1
            case 93, 125:  // a collection closed and followed by `:` was a key
                var n = i + 1
                while n < b.count, b[n] == 32 || b[n] == 9 { n += 1 }
                if n < b.count, b[n] == 58, isSpace(n + 1) || isFlow(b[n + 1]), r.complexKey == nil { r.complexKey = (line, column(i)) }
                i += 1
            case 42 where tokenStart(i):
                // As libyaml reads alias names: letters, digits, '-' and '_' (so `*a: 1` is a key).
                var k = i + 1
                while k < b.count, YAMLText.letter(b[k]) || YAMLText.digit(b[k]) || b[k] == 45 || b[k] == 95 { k += 1 }
                r.aliases += 1
                if r.firstAlias == nil { r.firstAlias = (line, column(i)) }
                var n = k
                while n < b.count, b[n] == 32 || b[n] == 9 { n += 1 }
                let colonKey = n < b.count && b[n] == 58 && (isSpace(n + 1) || isFlow(b[n + 1]))
                if colonKey || explicitKey, r.complexKey == nil { r.complexKey = (line, column(i)) }
                i = k
            default:
                i += 1
            }
        }
        return r
    }
}
