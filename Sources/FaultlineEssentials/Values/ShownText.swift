/// Text from a file, shown in a message, a plan or a log line: every control character
/// (a newline that would forge a second `FILE:LINE:COL` line, an ANSI escape that would repaint
/// the terminal) written as an escape, and long text cut.
public enum ShownText {
    /// `s` with control characters escaped (`\n`, `\t`, `\u{1B}`, `\u{202E}`) and cut after
    /// `limit` characters or `8 × limit` bytes, whichever comes first (`…` and the count left
    /// out): a letter carrying 300,000 combining marks is cut as surely as a long word.
    public static func escaped(_ s: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        var consumed = 0
        let bytes = 8 * limit
        for u in s.unicodeScalars {
            let combining = count > 0 && isCombining(u)
            if (count == limit && !combining) || out.utf8.count >= bytes {
                let rest = s.unicodeScalars.count - consumed
                return out + "…(\(rest) more)"
            }
            out += escape(u)
            consumed += 1
            if !combining { count += 1 }
        }
        return out
    }

    /// Control characters only, nothing cut: for text that is shown whole (a plan's commands).
    public static func controlsEscaped(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for u in s.unicodeScalars { out += escape(u) }
        return out
    }

    static func escape(_ u: Unicode.Scalar) -> String {
        switch u {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default: return isControl(u) ? "\\u{\(String(u.value, radix: 16, uppercase: true))}" : String(u)
        }
    }

    static func isCombining(_ u: Unicode.Scalar) -> Bool {
        guard u.value >= 0x300 else { return false }
        switch u.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// C0 and C1 controls, DEL, the line and paragraph separators, and every format character
    /// (Unicode's Cf: bidirectional overrides and isolates, zero-width spaces and joiners, the
    /// byte order mark), any of which can make a terminal or a rendered report show text other
    /// than what is there — a title that *displays* as "verdict: passed".
    public static func isControl(_ u: Unicode.Scalar) -> Bool {
        if u.value < 0x20 || (0x7F...0x9F).contains(u.value) { return true }
        if u.value < 0xA0 { return false }
        return u.value == 0x2028 || u.value == 0x2029 || u.properties.generalCategory == .format
    }
}

extension DefaultStringInterpolation {
    /// `\(shown: value)`: the value quoted, its control characters escaped, cut when long.
    public mutating func appendInterpolation(shown value: String) {
        appendLiteral("'\(ShownText.escaped(value))'")
    }
}
