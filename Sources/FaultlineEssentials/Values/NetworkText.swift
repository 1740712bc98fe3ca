/// Addresses and URLs as an experiment writes them, checked so that what is connected to is
/// exactly what the report names: no NUL (`127.0.0.1\0evil` connects to 127.0.0.1), no space
/// or control character, a port from 1 to 65535, a host that is a name or an IP literal.
public enum NetworkText {
    /// A host name (letters, digits, '.', '-', '_'; at most 253) or an IPv4 literal; an IPv6
    /// literal when `v6` (hex digits, ':' and '.').
    public static func isHost(_ s: Substring, v6: Bool = false) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        if v6 { return s.contains(":") && s.utf8.allSatisfy { ASCII.digit($0) || isHex($0) || $0 == 58 || $0 == 46 } }
        return s.utf8.allSatisfy { ASCII.letter($0) || ASCII.digit($0) || $0 == 46 || $0 == 45 || $0 == 95 }
            && !s.hasPrefix("-") && !s.hasPrefix(".")
    }

    static func isHex(_ c: UInt8) -> Bool { (97...102).contains(c) || (65...70).contains(c) }

    /// `host:port` or `[v6]:port`; nil when malformed or the port is out of range.
    public static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy(ASCII.digit), let port = Int(portText),
            (1...65_535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            return isHost(host, v6: true) ? (String(host), port) : nil
        }
        return isHost(host) ? (String(host), port) : nil
    }

    /// Why `url` is not an http(s) URL faultline would request as written, or nil: the scheme,
    /// a host, an optional port from 1 to 65535, and no space or control character anywhere.
    public static func urlProblem(_ url: String) -> String? {
        if url.unicodeScalars.contains(where: { ShownText.isControl($0) || $0 == " " }) {
            return "must not contain a space or a control character (a line break would add a header)"
        }
        let lower = url.lowercased()
        guard let scheme = ["http://", "https://"].first(where: lower.hasPrefix) else {
            return "must be an http:// or https:// URL with a host"
        }
        let rest = url.dropFirst(scheme.count)
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return "has an IPv6 address without its ']'" }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard isHost(host, v6: true) else { return "must be an http:// or https:// URL with a host" }
            if !after.isEmpty { return portProblem(after) }
            return nil
        }
        if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            if let p = portProblem(authority[colon...]) { return p }
        }
        return isHost(host) ? nil : "must be an http:// or https:// URL with a host"
    }

    static func portProblem(_ text: Substring) -> String? {
        let digits = text.dropFirst()
        guard text.hasPrefix(":"), !digits.isEmpty, digits.utf8.count <= 5, digits.utf8.allSatisfy(ASCII.digit),
            let p = Int(digits), (1...65_535).contains(p)
        else { return "must have a port from 1 to 65535 after the host" }
        return nil
    }
}
