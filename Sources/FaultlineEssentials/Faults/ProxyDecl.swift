/// A fault proxy the run starts before its steady state and stops at its end: connections to
/// `listen` are forwarded to `upstream` by the agent of `host`, and `proxy` faults add toxics to
/// it. Point a client at `listen` to put the proxy in its path.
public struct ProxyDecl: Codable, Equatable, Sendable {
    public var name: String
    public var host: String
    public var listen: String
    public var upstream: String

    public init(name: String, host: String = "local", listen: String, upstream: String) {
        self.name = name
        self.host = host
        self.listen = listen
        self.upstream = upstream
    }

    package static func isName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy { ASCII.letter($0) || ASCII.digit($0) || [45, 46, 95].contains($0) }
    }

    /// `host:port`, the host an IPv4 literal (`literal`) or any name; the port 0–65535 (1+ for an upstream).
    package static func isAddress(_ s: String, literal: Bool) -> Bool {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (literal ? 0 : 1)...65_535 ~= port else {
            return false
        }
        let host = String(s[..<colon])
        if literal { return host == "localhost" || IPv4Address(host) != nil }
        return !host.isEmpty && host.utf8.count <= 253
            && host.utf8.allSatisfy { ASCII.letter($0) || ASCII.digit($0) || [45, 46].contains($0) }
    }
}
