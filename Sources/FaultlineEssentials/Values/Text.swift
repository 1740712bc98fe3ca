import Glibc

/// Byte classes of ASCII text, for names and numbers read without a regular expression.
package enum ASCII {
    package static func lower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
    package static func letter(_ c: UInt8) -> Bool { lower(c) || (c >= 65 && c <= 90) }
    package static func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}

extension StringProtocol {
    /// Without the spaces and tabs at either end (what `trimmingCharacters(in: .whitespaces)`
    /// removes; that call is Foundation's, which this module does without).
    package var trimmingSpaces: String {
        let blank: (Character) -> Bool = { $0.isWhitespace && !$0.isNewline }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// `v` with `digits` decimals, as printf's `%.Nf` writes it (the C library's rounding).
package func fixed(_ v: Double, _ digits: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let n = withVaList([v]) { vsnprintf(&buffer, buffer.count, "%.\(max(0, min(digits, 20)))f", $0) }
    guard n > 0, n < buffer.count else { return "\(v)" }
    return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension StringProtocol {
    /// Without the whitespace and line breaks at either end (`.whitespacesAndNewlines`).
    package var trimmingBlanks: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}

/// `n` in decimal, zero-padded on the left to `width` digits.
package func padded(_ n: some BinaryInteger, _ width: Int) -> String {
    let digits = String(n)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// Paths as text, as `NSString`'s path methods read them.
package enum PathText {
    /// The folder `path` is in: `/a/b` → `/a`, `/a` → `/`, `a` → `` (trailing slashes ignored).
    package static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var head = p[..<slash]
        while head.count > 1, head.hasSuffix("/") { head.removeLast() }
        return String(head)
    }

    /// The last component: `/a/b` → `b` (trailing slashes ignored).
    package static func last(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        guard let slash = p.lastIndex(of: "/"), p != "/" else { return String(p) }
        return String(p[p.index(after: slash)...])
    }
}
