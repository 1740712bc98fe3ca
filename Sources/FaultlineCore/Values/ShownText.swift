/// Text from a file, shown in a message, a plan or a log line: every control character
/// (a newline that would forge a second `FILE:LINE:COL` line, an ANSI escape that would repaint
/// the terminal) written as an escape, and long text cut.
public enum ShownText {
    /// `s` with control characters escaped (`\n`, `\t`, `\u{1B}`) and cut after `limit`
    /// characters (`…` and the count left out).
    public static func escaped(_ s: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for ch in s {
            if count == limit {
                let rest = s.count - limit
                return out + "…(\(rest) more)"
            }
            out += escape(ch)
            count += 1
        }
        return out
    }

    /// Control characters only, nothing cut: for text that is shown whole (a plan's commands).
    public static func controlsEscaped(_ s: String) -> String { s.map(escape).joined() }

    static func escape(_ ch: Character) -> String {
        guard ch.unicodeScalars.contains(where: isControl) else { return String(ch) }
        return ch.unicodeScalars.map { u -> String in
            switch u {
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            default: return isControl(u) ? "\\u{\(String(u.value, radix: 16, uppercase: true))}" : String(u)
            }
        }.joined()
    }

    /// C0 and C1 controls, DEL, and the line and paragraph separators.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
    }
}

extension DefaultStringInterpolation {
    /// `\(shown: value)`: the value quoted, its control characters escaped, cut when long.
    public mutating func appendInterpolation(shown value: String) {
        appendLiteral("'\(ShownText.escaped(value))'")
    }
}
